"""The daemon's job planning, as pure functions: which jobs, their ids, triggers, jitter and
first-run offsets, and how a job store must change to match a new plan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.util import ref_to_obj

from alerts.settings import Subscription
from crawlers.catalogue import Source
from policywatch.daemon.planning import (
    ScheduledJob,
    check_trigger,
    cron_trigger,
    first_run_offset,
    hosts_overlap,
    jitter_for,
    job_changes,
    may_start,
    plan_jobs,
    politeness_hosts,
    store_key,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def source(source_id: str, every: str) -> Source:
    return Source.model_validate({
        "id": source_id, "name": source_id, "jurisdiction": "FR", "level": "national",
        "body": "ministry", "every": every,
        "entries": [{"type": "document", "url": "https://example.org/law"}]})


def digest(name: str, schedule: str) -> Subscription:
    return Subscription(name=name, recipients=("analyst@example.org",), schedule=schedule)


@pytest.mark.parametrize(("interval", "jitter"), [
    (timedelta(seconds=3), 1),  # at least a second
    (timedelta(minutes=10), 60),  # a tenth of the interval
    (timedelta(hours=6), 2160),
    (timedelta(days=7), 3600),  # at most an hour
])
def test_jitter_is_a_tenth_of_the_interval_between_a_second_and_an_hour(interval, jitter):
    assert jitter_for(interval) == jitter


def test_first_run_offset_is_stable_per_source_and_within_a_tenth_of_the_interval_a_minute_at_most():
    ids = [f"source-{n}" for n in range(200)]
    daily = {source_id: first_run_offset(source_id, timedelta(days=1)) for source_id in ids}
    assert all(timedelta(0) <= offset < timedelta(minutes=1) for offset in daily.values())
    assert len(set(daily.values())) > 20  # sources spread over the minute, not all at once
    assert daily == {source_id: first_run_offset(source_id, timedelta(days=1)) for source_id in ids}
    assert all(first_run_offset(source_id, timedelta(seconds=50)) < timedelta(seconds=5)
               for source_id in ids)
    assert first_run_offset("any", timedelta(seconds=3)) == timedelta(0)


def test_a_new_source_is_first_checked_at_its_offset_then_on_its_interval():
    daily = source("fr-cnil", "1d")
    trigger = check_trigger(daily, NOW)
    first = trigger.get_next_fire_time(None, NOW)
    earliest = NOW + first_run_offset("fr-cnil", timedelta(days=1))
    assert earliest <= first <= earliest + timedelta(seconds=jitter_for(timedelta(days=1)))
    second = trigger.get_next_fire_time(first, first)
    assert timedelta(days=1) <= second - first <= timedelta(days=1, seconds=3600)


def test_cron_schedules_take_five_fields_or_six_with_seconds_first():
    daily = cron_trigger("30 7 * * *")
    assert daily.get_next_fire_time(None, NOW) == datetime(2026, 3, 3, 7, 30, tzinfo=UTC)
    often = cron_trigger("*/4 * * * * *")
    assert often.get_next_fire_time(None, NOW + timedelta(seconds=1)) == NOW + timedelta(seconds=4)


@pytest.mark.parametrize(("weekday", "next_days"), [
    ("1", ["Mon"]),  # NOW is a Monday, 09:30: the next 07:00 Monday is a week later
    ("0", ["Sun"]), ("7", ["Sun"]), ("sun", ["Sun"]),
    ("1-5", ["Tue", "Wed", "Thu", "Fri", "Mon"]),
    ("mon-fri", ["Tue", "Wed", "Thu", "Fri", "Mon"]),
    ("0,6", ["Sat", "Sun"]),
    ("5-7", ["Fri", "Sat", "Sun"]),
    ("*/2", ["Tue", "Thu", "Sat", "Sun"]),  # 0, 2, 4, 6
])
def test_cron_weekdays_count_from_sunday_as_cron_does(weekday, next_days):
    trigger = cron_trigger(f"0 7 * * {weekday}")
    fired, moment = [], NOW
    for _ in next_days:
        moment = trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
        fired.append(moment.strftime("%a"))
    assert fired == next_days
    assert moment.hour == 7 and moment.minute == 0


def test_a_weekday_cron_does_not_know_is_refused():
    with pytest.raises(ValueError, match="'funday' is not a weekday"):
        cron_trigger("0 7 * * funday")


def test_plan_has_one_check_per_source_one_digest_per_subscription_and_the_two_routines():
    plan = plan_jobs("k1", [source("fr-cnil", "6h"), source("de-bfdi", "1d")],
                     [digest("china-weekly", "0 7 * * 1")], NOW)
    assert sorted(plan) == ["check:de-bfdi", "check:fr-cnil", "digest:china-weekly",
                            "housekeeping", "outbox:retry"]
    assert plan["check:fr-cnil"].args == ("k1", "fr-cnil")
    assert plan["digest:china-weekly"].args == ("k1", "china-weekly")
    assert plan["outbox:retry"].args == plan["housekeeping"].args == ("k1",)
    assert str(plan["outbox:retry"].trigger) == "interval[0:10:00]"
    assert str(plan["housekeeping"].trigger) == "interval[1 day, 0:00:00]"
    assert str(plan["check:fr-cnil"].trigger) == "interval[6:00:00]"
    for job in plan.values():  # what the job store will persist must resolve to a function
        assert callable(ref_to_obj(job.function))


def test_store_key_names_a_store_without_its_url():
    url = "postgresql+psycopg://policywatch:secret@db/policywatch"
    assert store_key(url) == store_key(url) != store_key(url + "2")
    assert "secret" not in store_key(url) and len(store_key(url)) == 12


def scheduled(plan: dict) -> dict[str, ScheduledJob]:
    return {job_id: job.scheduled() for job_id, job in plan.items()}


def test_an_unchanged_plan_changes_nothing_even_planned_again_later():
    sources, digests = [source("fr-cnil", "6h")], [digest("daily", "0 7 * * *")]
    before = scheduled(plan_jobs("k1", sources, digests, NOW))
    changes = job_changes(before, plan_jobs("k1", sources, digests, NOW + timedelta(hours=5)))
    assert not (changes.add or changes.retarget or changes.reschedule or changes.remove)


def test_changes_add_new_jobs_remove_dropped_ones_and_reschedule_changed_intervals():
    before = scheduled(plan_jobs("k1", [source("fr-cnil", "6h"), source("de-bfdi", "1d")],
                                 [digest("daily", "0 7 * * *")], NOW))
    after = plan_jobs("k1", [source("fr-cnil", "1h"), source("it-garante", "1d")],
                      [digest("daily", "0 8 * * *")], NOW)
    changes = job_changes(before, after)
    assert [job.id for job in changes.add] == ["check:it-garante"]
    assert changes.remove == ("check:de-bfdi",)
    assert sorted(job.id for job in changes.reschedule) == ["check:fr-cnil", "digest:daily"]
    assert changes.retarget == ()


def test_jobs_of_another_store_key_or_function_are_retargeted_and_keep_their_schedule():
    sources = [source("fr-cnil", "6h")]
    before = scheduled(plan_jobs("old-key", sources, [], NOW))
    before["housekeeping"] = ScheduledJob("policywatch.old:housekeeping",
                                          before["housekeeping"].schedule, ("new-key",))
    changes = job_changes(before, plan_jobs("new-key", sources, [], NOW))
    assert sorted(job.id for job in changes.retarget) == ["check:fr-cnil", "housekeeping",
                                                          "outbox:retry"]
    assert changes.reschedule == () and changes.add == () and changes.remove == ()


def source_on(source_id: str, *urls: str) -> Source:
    return Source.model_validate({
        "id": source_id, "name": source_id, "jurisdiction": "FR", "level": "national",
        "body": "ministry", "entries": [{"type": "document", "url": url} for url in urls]})


def test_the_hosts_of_a_check_are_its_declared_hosts_with_www_twins_as_one():
    cnil = source_on("fr-cnil", "https://WWW.cnil.fr/a", "https://cnil.fr/b",
                     "http://legifrance.gouv.fr:8080/c")
    assert politeness_hosts(cnil) == frozenset({"cnil.fr", "legifrance.gouv.fr"})


@pytest.mark.parametrize(("first", "second", "overlap"), [
    ({"cnil.fr"}, {"cnil.fr"}, True),
    ({"cnil.fr"}, {"edpb.europa.eu", "cnil.fr"}, True),
    ({"europa.eu"}, {"edpb.europa.eu"}, True),  # a source may fetch its hosts' subdomains
    ({"edpb.europa.eu"}, {"europa.eu"}, True),
    ({"cnil.fr"}, {"legifrance.gouv.fr"}, False),
    ({"cnil.fr"}, {"xcnil.fr"}, False),  # a longer name is not a subdomain
    (set(), {"cnil.fr"}, False),
])
def test_hosts_overlap_on_a_shared_host_or_a_subdomain(first, second, overlap):
    assert hosts_overlap(first, second) is overlap
    assert hosts_overlap(second, first) is overlap


def test_a_check_starts_beside_running_checks_only_when_it_shares_no_host_with_them():
    cnil, edpb = frozenset({"cnil.fr"}), frozenset({"edpb.europa.eu"})
    assert may_start(cnil, [])
    assert may_start(cnil, [edpb])
    assert not may_start(cnil, [edpb, frozenset({"cnil.fr", "legifrance.gouv.fr"})])
    assert not may_start(frozenset({"www.europa.eu".removeprefix("www.")}), [edpb])
