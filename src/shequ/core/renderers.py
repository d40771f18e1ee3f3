"""The form renderer: Django's, except that a drop-down (<select>) is written here rather than through a
template per option. A list page's filter form has about a hundred options (51 categories, the
streets, stages, sources); Django's templates rendered them one include each, a fifth of a work queue
page's time. The markup is that of Django's select.html and select_option.html."""

from django.forms.renderers import DjangoTemplates
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget", {})
        if template_name == SELECT and all(
            option["template_name"] == OPTION
            for _name, options, _index in widget["optgroups"]
            for option in options
        ):
            return select_html(widget)
        return super().render(template_name, context, request=request)


def attrs_html(attrs: dict) -> str:
    """attrs.html: ` name="value"`, a bare name for True, nothing for False."""
    return "".join(
        format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
        for name, value in attrs.items()
        if value is not False
    )


def select_html(widget: dict) -> str:
    parts = [format_html('<select name="{}"{}>', widget["name"], mark_safe(attrs_html(widget["attrs"])))]
    for group, options, _index in widget["optgroups"]:
        if group:
            parts.append(format_html('<optgroup label="{}">', group))
        parts.append(
            format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (option["value"], mark_safe(attrs_html(option["attrs"])), option["label"])
                    for option in options
                ),
            )
        )
        if group:
            parts.append("</optgroup>")
    parts.append("</select>")
    return mark_safe("".join(parts))  # the pieces are format_html's, escaped
