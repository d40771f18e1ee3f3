"""Two people act on the same case at once: exactly one transition wins, the other gets a clear message,
nothing is lost. Real concurrent transactions need a real server: PostgreSQL (SQLite serialises writers
and its in-memory test database cannot be shared by two connections)."""

import threading

import pytest
from django.db import close_old_connections, connection

from shequ.cases import services
from shequ.cases.choices import Stage
from shequ.cases.models import Case, CaseEvent
from shequ.cases.seed import load_categories, load_rules
from tests.world import build_world

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs concurrent transactions (PostgreSQL)"
    ),
]


def race(*steps):
    """Run the steps at the same moment in threads with their own connections; return results/errors."""
    barrier = threading.Barrier(len(steps))
    outcomes = [None] * len(steps)

    def run(index, step):
        try:
            barrier.wait()
            outcomes[index] = step()
        except Exception as error:  # noqa: BLE001 - the losing side's error is the point of the test
            outcomes[index] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i, step)) for i, step in enumerate(steps)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_dispatchers_registering_at_once(transactional_db):
    world = build_world()
    categories = load_categories()
    load_rules(categories)
    case = services.report_case(
        actor=world.user("jiangning"),
        source="hotline",
        category=categories["E0101"],
        description="垃圾堆放",
        unit=world.jn.area,
    )
    jiangning, admin = world.user("jiangning"), world.user("jiangning_admin")
    outcomes = race(
        lambda: services.register_case(actor=jiangning, case=case, note="甲"),
        lambda: services.reject_case(actor=admin, case=case, reason="乙认为重复"),
    )
    wins = [o for o in outcomes if isinstance(o, Case)]
    losses = [o for o in outcomes if isinstance(o, Exception)]
    assert len(wins) == 1 and len(losses) == 1
    assert "已被他人处理" in str(losses[0])
    case.refresh_from_db()
    assert case.stage == wins[0].stage and case.stage in (Stage.REGISTERED, Stage.REJECTED)
    assert CaseEvent.objects.filter(case=case).exclude(action="report").count() == 1
    assert case.version == 2


def test_a_department_accepting_while_it_is_being_returned(transactional_db):
    world = build_world()
    categories = load_categories()
    load_rules(categories)
    case = services.report_case(
        actor=world.user("jiangning"),
        source="hotline",
        category=categories["S0301"],
        description="群租",
        unit=world.jn.area,
    )
    case = services.register_case(actor=world.user("jiangning"), case=case)
    case = services.dispatch_case(
        actor=world.user("jiangning"), case=case, assignee=services.propose_assignee(case)
    )
    fangguan = world.user("fangguan")
    outcomes = race(
        lambda: services.accept_case(actor=fangguan, case=case),
        lambda: services.return_case(actor=fangguan, case=case, reason="不是本部门"),
    )
    assert sum(isinstance(o, Case) for o in outcomes) == 1
    case.refresh_from_db()
    assert case.stage in (Stage.HANDLING, Stage.REGISTERED)
    assert case.events.exclude(action__in=["report", "register", "dispatch"]).count() == 1
