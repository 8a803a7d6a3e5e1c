"""Prompt history: kept with results and scores, searchable with FTS5, ranked by ratings."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from imagestudio_nb.errors import InvalidArgumentError, NotFoundError
from imagestudio_nb.prompts import PromptHistory, record_generation, score

H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def _record(gid, prompt, assets, *, model="local", user="ana", created="2026-11-25T10:00:00+00:00"):
    return {"id": gid, "created": created, "user": user, "provider": "local",
            "request": {"prompt": prompt, "model": model, "size": "1024x1024", "n": len(assets)},
            "assets": assets}


@pytest.fixture
def history(tmp_path):
    with PromptHistory(tmp_path / "history.sqlite") as store:
        yield store


def test_record_generation_keeps_prompt_results_model_and_score(history):
    pid = record_generation(history, _record("g1", "a red fox in the snow, watercolor", [H1, H2]))
    entry = history.get(pid)
    assert entry.prompt == "a red fox in the snow, watercolor"
    assert entry.assets == [H1, H2] and entry.models == ["local"] and entry.uses == 1
    assert entry.score == score("a red fox in the snow, watercolor").total


def test_recording_the_same_generation_twice_counts_once_and_uses_add_up(history):
    first = record_generation(history, _record("g1", "a red fox", [H1]))
    assert record_generation(history, _record("g1", "a red fox", [H1])) == first
    assert history.get(first).uses == 1
    # the same prompt, spaced and cased differently, is the same prompt used again
    assert record_generation(history, _record("g2", "A  red fox ", [H2], model="gpt-image-1")) == first
    entry = history.get("a red fox")
    assert entry.uses == 2 and entry.assets == [H1, H2] and entry.models == ["gpt-image-1", "local"]
    assert len(history) == 1


def test_records_without_a_prompt_are_skipped_and_asset_dicts_accepted(history):
    assert record_generation(history, {"id": "g0", "request": {"model": "local"}, "assets": [H1]}) is None
    pid = record_generation(history, {"id": "g1", "request": {"prompt": "a teapot"}, "assets": [{"hash": H3}]})
    assert history.get(pid).assets == [H3]


def test_search_finds_every_word_ignoring_accents_and_case(history):
    history.add("a café terrace at night, Van Gogh style")
    history.add("a red fox in the snow")
    history.add("a fox cub asleep in a café window")
    assert {e.prompt for e in history.search("CAFE")} == {"a café terrace at night, Van Gogh style",
                                                          "a fox cub asleep in a café window"}
    assert [e.prompt for e in history.search("fox café")] == ["a fox cub asleep in a café window"]
    assert history.search("zebra") == []


def test_search_is_safe_against_fts_syntax(history):
    history.add('a sign saying "OPEN" NEAR the door')
    for query in ['"', "OPEN OR", "NEAR(", "*", "a AND", "col:umn", "-x"]:
        history.search(query)  # must not raise an FTS5 syntax error
    assert [e.prompt for e in history.search('"open" near')] == ['a sign saying "OPEN" NEAR the door']


def test_prompts_that_worked_are_ranked_by_ratings(history):
    record_generation(history, _record("g1", "a lighthouse at dusk", [H1]))
    record_generation(history, _record("g2", "a lighthouse in fog", [H2]))
    record_generation(history, _record("g3", "a lighthouse, noir", [H3]))
    for user in ("ana", "ben", "cy", "dee"):
        history.rate(5, asset=H2, user=user)
    history.rate(5, asset=H1, user="ana")  # one 5 must not beat four 5s
    history.rate(2, asset=H3, user="ana")
    top = history.top_rated()
    assert [e.prompt for e in top] == ["a lighthouse in fog", "a lighthouse at dusk", "a lighthouse, noir"]
    assert top[0].rating == 5.0 and top[0].ratings == 4
    assert history.top_rated(min_ratings=2)[0].prompt == "a lighthouse in fog"
    assert [e.prompt for e in history.search("lighthouse", min_rating=4)] == ["a lighthouse in fog",
                                                                               "a lighthouse at dusk"]


def test_a_users_new_rating_replaces_their_old_one(history):
    history.add("a teapot", assets=[H1])
    history.rate(1, asset=H1, user="ana")
    history.rate(4, asset=H1, user="ana")
    assert history.get("a teapot").rating == 4.0 and history.get("a teapot").ratings == 1
    history.rate(2, prompt="a teapot", user="ben")
    assert history.get("a teapot").ratings == 2


def test_bad_ratings_are_refused(history):
    history.add("a teapot", assets=[H1])
    for bad in (0, 6, 4.5, True, "5"):
        with pytest.raises(InvalidArgumentError, match="1 to 5"):
            history.rate(bad, asset=H1)
    with pytest.raises(InvalidArgumentError, match="either an asset"):
        history.rate(3)
    with pytest.raises(NotFoundError):
        history.rate(3, asset=H2)
    with pytest.raises(NotFoundError):
        history.rate(3, prompt="a kettle")


def test_history_persists_and_forget_removes_everything(tmp_path):
    path = tmp_path / "h.sqlite"
    with PromptHistory(path) as store:
        store.add("a red fox", assets=[H1])
        store.rate(5, asset=H1)
    with PromptHistory(path) as store:
        assert store.get("a red fox").rating == 5.0
        store.forget("a red fox")
        assert store.search("fox") == [] and len(store) == 0
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 0


def test_complete_matches_a_prefix_of_the_last_word(history):
    history.add("a lighthouse at dusk")
    history.add("a lightning storm over the sea")
    history.add("a red lighthouse")
    assert {e.prompt for e in history.complete("a light")} == {"a lighthouse at dusk", "a lightning storm over the sea",
                                                               "a red lighthouse"}
    assert [e.prompt for e in history.complete("red lighth")] == ["a red lighthouse"]


def test_concurrent_writers_do_not_lose_uses(history):
    def work(n):
        for i in range(20):
            history.add("a shared prompt", generation_id=f"{n}-{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert history.get("a shared prompt").uses == 80


def test_empty_prompts_are_refused(history):
    with pytest.raises(InvalidArgumentError):
        history.add("  ")


def test_generations_land_in_the_default_history_named_by_the_environment(tmp_path, monkeypatch):
    from imagestudio_nb.prompts.history import default_history, record_generation_default

    monkeypatch.setenv("IMAGESTUDIO_PROMPT_HISTORY", str(tmp_path / "default.sqlite"))
    assert record_generation_default(_record("g1", "a paper boat", [H1])) is not None
    assert default_history().get("a paper boat").assets == [H1]
    monkeypatch.setenv("IMAGESTUDIO_PROMPT_HISTORY", "off")
    assert default_history() is None
    assert record_generation_default(_record("g2", "a paper boat", [H2])) is None


def test_a_broken_history_file_does_not_fail_a_generation(tmp_path, monkeypatch):
    from imagestudio_nb.prompts.history import record_generation_default

    bad = tmp_path / "not-a-db.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("IMAGESTUDIO_PROMPT_HISTORY", str(bad))
    assert record_generation_default(_record("g1", "a paper boat", [H1])) is None


def test_generate_records_its_prompt(tmp_path, monkeypatch, workspace):
    import imagestudio_nb as studio
    from imagestudio_nb.prompts.history import default_history

    monkeypatch.setenv("IMAGESTUDIO_PROMPT_HISTORY", str(tmp_path / "gen.sqlite"))
    project = studio.Project.create("History", exist_ok=True)
    results = studio.generate("a paper boat on a pond", seed=3, size="512x512", project=project, progress=False)
    studio.generation.flush_prompt_history()  # recorded off the caller's path
    entry = default_history().get("a paper boat on a pond")
    assert entry is not None and entry.assets == [r.asset for r in results] and entry.models == ["local"]
