"""Role profiles as JSON files: every problem reported with its place, round trips, the CLI."""

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from coachapp.extensions import db
from coachapp.models import Behaviour, RoleProfile
from coachapp.profiles import files, service


def good(**overrides: object) -> dict:  # type: ignore[type-arg]
    behaviours = [{"name": f"Does thing {n}", "example": "Like this."} for n in range(3)]
    document = {
        "name": "Night desk",
        "description": "Keeps the night calm.",
        "competencies": [
            {"name": "Care", "kind": "attitude", "description": "", "behaviours": behaviours}
        ],
    }
    document.update(overrides)
    return document


def problems_of(raw: object) -> list[str]:
    text = raw if isinstance(raw, str | bytes) else json.dumps(raw)
    with pytest.raises(files.InvalidProfileFile) as raised:
        files.parse(text)
    assert raised.value.status_code == 422
    return raised.value.problems


def test_the_starter_library_has_three_complete_profiles(app) -> None:  # type: ignore[no-untyped-def]
    starters = files.starters()
    assert {s.key for s in starters} >= {"contact_centre_agent", "front_desk", "field_technician"}
    for starter in starters:
        assert starter.data.description
        assert sorted(c.kind.value for c in starter.data.competencies) == [
            "attitude",
            "knowledge",
            "skill",
        ]
        for competency in starter.data.competencies:
            assert competency.description and 4 <= len(competency.behaviours) <= 8
            assert all(b.example for b in competency.behaviours)


def test_a_good_file_parses_and_optional_fields_may_be_left_out(app) -> None:  # type: ignore[no-untyped-def]
    document = good()
    del document["description"]
    for behaviour in document["competencies"][0]["behaviours"]:
        del behaviour["example"]
    data = files.parse(json.dumps(document).encode("utf-8-sig"))
    assert data.name == "Night desk" and data.description == ""
    assert [b.name for b in data.competencies[0].behaviours][0] == "Does thing 0"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "The file is not JSON"),
        (b"\xff\xfe\x00", "The file is not JSON"),
        ("[1, 2]", "The file must hold one profile"),
        (good(colour="red"), 'The profile: unknown keys "colour"'),
        ({k: v for k, v in good().items() if k != "name"}, "The profile: the name is missing"),
        (good(name="  "), "The profile: the name is empty"),
        (good(name="n" * 121), "The profile: the name is over 120 characters"),
        (good(competencies=[]), "The profile has no behaviours"),
        ("x" * (files.MAX_FILE_BYTES + 1), "The file is over 256 KB"),
    ],
)
def test_bad_files_say_what_is_wrong(app, raw: object, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert any(expected in problem for problem in problems_of(raw))


def test_every_problem_is_listed_with_its_place(app) -> None:  # type: ignore[no-untyped-def]
    behaviours = [{"name": f"B{n}"} for n in range(4)] + [{"name": "x" * 161, "smell": 1}]
    document = good(
        competencies=[
            {"name": "Care", "kind": "attitude", "behaviours": [{"name": "Only one"}]},
            {"name": "care", "kind": "talent", "behaviours": behaviours},
            {"name": "Tools", "kind": "skill", "behaviours": [{"name": "b0"}] + [{}] * 12},
        ]
    )
    problems = problems_of(document)
    assert problems == [
        "Competency 1: it has 1 behaviour; a competency needs 3 to 12.",
        'Competency 2: the kind must be knowledge, skill or attitude, not "talent".',
        "Competency 2: another competency has this name.",
        'Competency 2, behaviour 5: unknown keys "smell" (allowed: example, name).',
        "Competency 2, behaviour 5: the name is over 160 characters.",
        "Competency 3, behaviour 1: another behaviour has this name.",
    ] + [f"Competency 3, behaviour {n}: the name is missing." for n in range(2, 14)] + [
        "Competency 3: it has 13 behaviours; a competency needs 3 to 12.",
    ]


def test_a_profile_whose_competencies_have_no_behaviours(app) -> None:  # type: ignore[no-untyped-def]
    problems = problems_of(good(competencies=[{"name": "Care", "kind": "skill"}]))
    assert problems[-1].startswith("The profile has no behaviours")


def test_export_then_import_is_the_same_profile(app) -> None:  # type: ignore[no-untyped-def]
    original = files.copy_starter("field_technician", actor=None)
    service.retire_behaviour(original.competencies[1].behaviours[0], actor=None)
    db.session.commit()
    exported = files.export(original)
    assert len(exported["competencies"][1]["behaviours"]) == 5  # active ones only
    copy = files.import_profile(
        files.parse(files.export_json(original)), actor=None, name="Field technician 2"
    )
    db.session.commit()
    assert files.export(copy) == {**exported, "name": "Field technician 2"}


def test_download_name_is_safe() -> None:
    profile = RoleProfile(name="Front desk / Retail, nights")
    assert files.download_name(profile) == "front-desk-retail-nights.json"


# --- the command line --------------------------------------------------------------------------


def test_cli_export_writes_json_and_refuses_an_unknown_name(runner) -> None:  # type: ignore[no-untyped-def]
    files.copy_starter("front_desk", actor=None)
    db.session.commit()
    result = runner.invoke(args=["profiles", "export", "front DESK"])
    assert result.exit_code == 0
    assert json.loads(result.output)["name"] == "Front desk"
    missing = runner.invoke(args=["profiles", "export", "Nobody"])
    assert missing.exit_code != 0 and "No role profile" in missing.output


def test_cli_import_and_replace(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "night.json"
    path.write_text(json.dumps(good()), encoding="utf-8")
    result = runner.invoke(args=["profiles", "import", str(path)])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["profiles", "import", str(path)])
    assert again.exit_code != 0 and "already a profile" in again.output
    changed = good()
    changed["competencies"][0]["behaviours"][2] = {"name": "Does a new thing"}
    path.write_text(json.dumps(changed), encoding="utf-8")
    replaced = runner.invoke(args=["profiles", "import", str(path), "--replace"])
    assert replaced.exit_code == 0, replaced.output
    retired = db.session.scalar(sa.select(Behaviour).where(Behaviour.name == "Does thing 2"))
    assert retired is not None and retired.is_retired


def test_cli_import_of_a_bad_file_prints_each_problem_and_creates_nothing(
    runner,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(good(name="", colour="red")), encoding="utf-8")
    result = runner.invoke(args=["profiles", "import", str(path)])
    assert result.exit_code != 0
    assert "The profile: the name is empty." in result.output
    assert 'unknown keys "colour"' in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RoleProfile)) == 0
