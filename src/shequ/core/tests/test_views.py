"""The base page views (core.views) as every list, detail and form uses them (issue 9, items 2, 6, 8, 13)."""

import re

from django import forms
from django.urls import reverse

from shequ.core.forms import style_widgets
from shequ.core.views import yes_no
from shequ.registry import services


def test_only_sorting_and_pagination_links_swap_the_table_a_row_link_is_a_navigation(world, client):
    client.force_login(world.user("jiangning"))
    for number in range(30):
        services.create_building(actor=None, estate=world.jn.estate, number=f"{number + 2}号", floors=6)
    html = client.get(reverse("building-list")).content.decode()
    body = html[html.index('id="list-body"') :]
    assert "hx-boost" not in re.search(r'<div id="list-body"[^>]*>', html).group(0)
    thead = re.search(r"<thead[^>]*>", body).group(0)
    assert 'hx-boost="true"' in thead and 'hx-target="#list-body"' in thead
    assert re.search(r'<div class="card-footer" hx-boost="true" hx-target="#list-body"', body)
    tbody = body[body.index("<tbody") : body.index("</tbody>")]
    assert "hx-" not in tbody and f'href="{world.jn.building.get_absolute_url()}"' in tbody
    # A sort or page link asked through htmx gets the table alone.
    partial = client.get(reverse("building-list"), {"page": 2}, headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and "<table" in partial.content.decode()


def test_every_cell_carries_its_column_header_for_the_phone_cards(world, client):
    client.force_login(world.user("xinan"))
    html = client.get(reverse("resident-list")).content.decode()
    assert 'data-label="姓名"' in html and 'data-label="证件号码"' in html


def test_on_a_phone_the_filters_beyond_the_search_box_fold_behind_a_button(world, client):
    client.force_login(world.user("xinan"))
    html = client.get(reverse("estate-list")).content.decode()
    assert 'data-bs-target="#more-filters"' in html
    assert html.index('name="q"') < html.index('id="more-filters"') < html.index('name="housing_type"')
    assert 'class="filters-more collapse" id="more-filters"' in html
    html = client.get(reverse("estate-list"), {"q": "新安"}).content.decode()
    assert 'class="filters-more collapse" id="more-filters"' in html  # the search box is in view anyway
    html = client.get(reverse("estate-list"), {"housing_type": "commercial"}).content.decode()
    assert 'class="filters-more collapse show" id="more-filters"' in html and "筛选（1）" in html


def test_detail_pages_say_yes_or_no_for_booleans(world, client):
    client.force_login(world.user("jiangning"))
    building = services.create_building(actor=None, estate=world.jn.estate, number="8号", has_elevator=True)
    html = client.get(building.get_absolute_url()).content.decode()
    assert re.search(r"有电梯</dt><dd[^>]*>是</dd>", html)
    assert "True" not in html and "False" not in html
    assert (str(yes_no(False)), str(yes_no(None))) == ("否", "—")


def test_yes_no_filters_offer_all_rather_than_unknown(world, client):
    client.force_login(world.user("jiangning"))
    html = client.get(reverse("building-list")).content.decode()
    select = re.search(r'<select name="has_elevator".*?</select>', html, re.S).group(0)
    assert "全部" in select and "未知" not in select


def test_radio_buttons_and_checkbox_lists_render_as_labelled_controls():
    class Rating(forms.Form):
        rating = forms.ChoiceField(choices=[("good", "满意"), ("bad", "不满意")], widget=forms.RadioSelect)
        tags = forms.MultipleChoiceField(choices=[("a", "独居")], widget=forms.CheckboxSelectMultiple)
        name = forms.CharField()

    form = Rating()
    style_widgets(form)
    html = str(form["rating"]) + str(form["tags"])
    assert '<label class="form-check" for="id_rating_0"><input type="radio"' in html
    assert 'class="form-check-input"' in html and "form-control" not in html
    assert '<span class="form-check-label">满意</span>' in html
    assert 'class="form-control"' in str(form["name"])
