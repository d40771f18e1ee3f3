import csv

from django.db.models import F

from shequ.demo.loader import DEMO_ACCOUNTS, DIVISIONS_CSV, load_demo
from shequ.org.models import Membership, Unit, User
from shequ.registry.choices import HousingType
from shequ.registry.models import Block, Building, BuildingGroup, Estate, Grid, Household, Resident


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Unit, User, Membership, Estate, Building, BuildingGroup, Grid, Block)
    }


def test_the_demo_district_matches_the_division_codes_and_loads_once(db):
    first = load_demo("demo")
    after_first = counts()
    second = load_demo("demo")
    assert counts() == after_first, "a second load adds nothing"
    assert second.estates == second.units == second.users == 0

    rows = list(csv.DictReader(DIVISIONS_CSV.open(encoding="utf-8")))
    assert (
        Unit.objects.filter(kind__in=["street", "town"]).count()
        == 14
        == sum(r["level"] == "street" for r in rows)
    )
    assert (
        Unit.objects.filter(kind="neighborhood").count()
        == 267
        == sum(r["level"] == "committee" for r in rows)
    )
    assert Unit.objects.get(code="310106101").kind == "town"  # 彭浦镇
    assert Unit.objects.filter(kind="department").count() == 20
    assert Unit.objects.filter(parent__code="310106006", kind="neighborhood").count() == 16
    assert (
        first.users == len(DEMO_ACCOUNTS)
        and User.objects.get(username="xinan").memberships.get().unit.name == "新安居委会"
    )
    # Every residential area has estates, and the housing types are a realistic mix.
    assert not Unit.objects.filter(kind="neighborhood", owned_estates__isnull=True).exists()
    types = set(Estate.objects.values_list("housing_type", flat=True))
    assert {HousingType.LANE, HousingType.PUBLIC_SOLD, HousingType.COMMERCIAL} <= types
    # Every building group sits in a building of an estate of its residential area.
    assert not BuildingGroup.objects.exclude(unit=F("building__estate__unit")).exists()


def test_the_synthetic_places_are_the_same_every_time(db):
    load_demo("demo")

    def snapshot():
        return list(
            Estate.objects.order_by("unit__code", "name").values_list(
                "unit__code", "name", "housing_type", "households"
            )
        )

    first = snapshot()
    Resident.objects.all().delete()
    Household.objects.all().delete()
    BuildingGroup.objects.all().delete()
    Building.objects.all().delete()
    Estate.objects.all().delete()
    load_demo("demo")
    assert snapshot() == first
