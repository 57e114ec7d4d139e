"""People from a CSV file: what spreadsheets export is read, every bad file or row is refused with
its reason, the preview says what will happen, nothing is created while a row has an error, and
the links are shown once: on the web (printable, one sheet a team, and a CSV) and on the command
line."""

import base64
import csv
import io
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from coachapp import clock
from coachapp.auth import invitations
from coachapp.extensions import db
from coachapp.models import AuditEvent, Invitation, Role, Team, User
from coachapp.people import csv_import, import_service
from coachapp.people.csv_import import CsvRefused, Outcome
from tests.conftest import Auth, World

HEADER = "name,email,role,team,role_profile\n"
NAMES = ["Žydrūnė Šimkutė", "Łukasz Żółkiewski", "Анна Кузнецова", "João Gonçalves"]
UPLOAD = "/admin/people/import"
PREVIEW = "/admin/people/import/preview"


def rows_of(text: str | bytes) -> list[csv_import.CsvRow]:
    return csv_import.read_csv(text)


def refusal(text: str | bytes) -> list[str]:
    with pytest.raises(CsvRefused) as refused:
        csv_import.read_csv(text)
    return refused.value.problems


def planned(text: str) -> csv_import.Plan:
    return csv_import.plan(rows_of(text), now=clock.now())


def count(model: type) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


# --- reading what spreadsheets export -----------------------------------------------------------


def test_a_comma_file_with_names_in_four_scripts_is_read(app: Flask) -> None:
    text = HEADER + "".join(f"{name},,agent,Phones,\n" for name in NAMES)
    rows = rows_of(text.encode())
    assert [row.name for row in rows] == NAMES
    assert [row.number for row in rows] == [2, 3, 4, 5]
    assert all(row.role == Role.AGENT and row.team == "Phones" and not row.problems for row in rows)


def test_semicolons_a_byte_order_mark_and_windows_line_endings_are_read(app: Flask) -> None:
    text = "\ufeffName;E-mail;ROLE;Team;Role profile\r\n".replace("E-mail", "email")
    text += "Žydrūnė Šimkutė;zydrune@example.lt;Agent;Vilnius;\r\nJoão Gonçalves;;ADMIN;;\r\n"
    rows = rows_of(text.encode("utf-8"))
    assert [(row.name, row.email, row.role, row.team) for row in rows] == [
        ("Žydrūnė Šimkutė", "zydrune@example.lt", Role.AGENT, "Vilnius"),
        ("João Gonçalves", "", Role.ADMIN, ""),
    ]


def test_quoted_fields_keep_their_separators_and_line_breaks(app: Flask) -> None:
    text = (
        "team;name;role;email;role_profile\n"
        '"Sales; North";"Kuznetsova,\nАнна";agent;;\n'
        '"Desk ""B""";"Łukasz Żółkiewski";manager;;\n'
    )
    rows = rows_of(text)
    assert [(row.team, row.name, row.number) for row in rows] == [
        ("Sales; North", "Kuznetsova, Анна", 2),
        ('Desk "B"', "Łukasz Żółkiewski", 3),
    ]
    assert not any(row.problems for row in rows)


def test_blank_rows_are_left_out_and_spacing_is_tidied(app: Flask) -> None:
    rows = rows_of(HEADER + "\n  Anna   Kuznetsova ,, agent , Phones ,\n,,,,\n")
    assert [(row.name, row.team, row.number) for row in rows] == [("Anna Kuznetsova", "Phones", 3)]


# --- refusing a file ----------------------------------------------------------------------------


def test_an_empty_file_is_refused(app: Flask) -> None:
    assert refusal(b"") == ["The file is empty. Put the column names in the first row."]
    assert refusal("\n \r\n") == ["The file is empty. Put the column names in the first row."]
    assert refusal(HEADER) == ["The file has the column names but nobody under them."]


def test_a_file_that_is_not_utf8_is_refused_with_how_to_save_it(app: Flask) -> None:
    latin1 = (HEADER + "João Gonçalves,,agent,Phones,\n").encode("latin-1")
    utf16 = (HEADER + "Анна,,agent,Phones,\n").encode("utf-16")
    for data in (latin1, utf16):
        [problem] = refusal(data)
        assert "not UTF-8" in problem and "CSV UTF-8" in problem


def test_missing_unknown_repeated_and_unnamed_columns_are_named(app: Flask) -> None:
    problems = refusal("name;role;team;phone;team;\nAnna;agent;Phones;123;x;\n")
    assert problems == [
        "Unknown column “phone”: the columns are name, email, role, team, role_profile "
        "(and optionally duplicate).",
        "The column “team” appears twice.",
        "Column 6 has no name in the first row: name it or remove it.",
        "The column “email” is missing: the first row must name the columns name, email, role, "
        "team, role_profile (a row may leave email and role_profile empty).",
        "The column “role_profile” is missing: the first row must name the columns name, email, "
        "role, team, role_profile (a row may leave email and role_profile empty).",
    ]


def test_ten_thousand_rows_get_one_message_at_once(app: Flask) -> None:
    text = HEADER + "".join(f"Person {i},,agent,Phones,\n" for i in range(10_000))
    started = time.perf_counter()
    problems = refusal(text.encode())
    took = time.perf_counter() - started
    assert problems == [
        "The file has 10,000 people; at most 1,000 can be added at a time. "
        "Split it into smaller files."
    ]
    assert took < 0.5, f"refusing 10,000 rows took {took:.2f} s"


def test_a_thousand_rows_are_allowed(app: Flask) -> None:
    rows = rows_of(HEADER + "".join(f"Person {i},,agent,Phones,\n" for i in range(1000)))
    assert len(rows) == 1000


# --- refusing a row -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (",,agent,Phones,", "Write the person's name."),
        (
            "A" * 121 + ",,agent,Phones,",
            "Keep the name within 120 characters (this one has 121).",
        ),
        (
            "Anna,anna-at-example.org,agent,Phones,",
            "“anna-at-example.org” is not an e-mail address.",
        ),
        ("Anna,,coach,Phones,", "Unknown role “coach”: write agent, manager, trainer or admin."),
        ("Anna,,,Phones,", "Write a role: agent, manager, trainer or admin."),
        ("Anna,,trainer,Phones,", "A trainer has no team: leave the team empty."),
        ("Anna,,Admin,Phones,", "An admin has no team: leave the team empty."),
        ("Anna,,agent,,", "An agent works in a team: write the team's name."),
        ("Anna,,manager,,", "Write the team this manager manages."),
        (
            "Anna,,manager,Phones,Contact-centre agent",
            "Only agents are coached against a role profile: leave role_profile empty here.",
        ),
        ("Anna,,agent,Phones,,", None),  # too many fields: checked below with the header's count
        (
            "Anna,,agent," + "T" * 121 + ",",
            "Keep the team's name within 120 characters.",
        ),
    ],
)
def test_each_bad_row_says_what_is_wrong(app: Flask, line: str, problem: str | None) -> None:
    [row] = rows_of(HEADER + line + "\n")
    if problem is None:
        assert row.problems == [
            "This row has 6 fields but the first row names 5 columns: look for a missing or "
            "extra ,, or a quote that is not closed."
        ]
    else:
        assert row.problems == [problem]


def test_a_row_with_too_few_fields_names_the_separator(app: Flask) -> None:
    [row] = rows_of("name;email;role;team;role_profile\nAnna;agent;Phones\n")
    assert row.problems == [
        "This row has 3 fields but the first row names 5 columns: look for a missing or extra ;, "
        "or a quote that is not closed."
    ]


def test_an_unknown_duplicate_value_is_refused(app: Flask) -> None:
    [row] = rows_of("name,email,role,team,role_profile,duplicate\nAnna,,agent,Phones,,maybe\n")
    assert row.problems == [
        "In the duplicate column write invite (to invite this person even though the name is "
        "taken) or leave it empty."
    ]


def test_roles_are_read_in_any_case(app: Flask) -> None:
    rows = rows_of(HEADER + "A,,AGENT,T,\nB,,Manager,T,\nC,,trainer,,\nD,,aDmIn,,\n")
    assert [row.role for row in rows] == [Role.AGENT, Role.MANAGER, Role.TRAINER, Role.ADMIN]


# --- the plan -----------------------------------------------------------------------------------


def test_the_plan_says_what_happens_to_each_row(world: World) -> None:
    world.team_b.archived_at = datetime(2026, 1, 1, tzinfo=UTC)
    invitations.create_invitation(
        created_by=world.admin_ada,
        name="Nia Novak",
        email="nia@example.org",
        role=Role.AGENT,
        team=world.team_a,
        now=clock.now(),
    )
    db.session.commit()
    plan = planned(
        HEADER
        + "Žydrūnė Šimkutė,zydrune@example.lt,agent,phones,contact-centre AGENT\n"  # 2
        + "Łukasz Żółkiewski,,manager,Vilnius,\n"  # 3: a new team
        + "Анна Кузнецова,,agent,VILNIUS,\n"  # 4: the same new team
        + "alex adams,,agent,Phones,\n"  # 5: a person's name
        + "Someone Else,MARIA@example.org,agent,Phones,\n"  # 6: a person's e-mail
        + "Nia Novak,,agent,Phones,\n"  # 7: a pending invitation's name
        + "Nina N,nia@example.org,agent,Phones,\n"  # 8: a pending invitation's e-mail
        + "Žydrūnė  ŠIMKUTĖ,,agent,Phones,\n"  # 9: twice in the file, by name
        + "João Gonçalves,ZYDRUNE@example.lt,trainer,,\n"  # 10: twice in the file, by e-mail
        + "Bo Novak,,agent,Desk,\n"  # 11: an archived team
        + "Eva Ek,,agent,Phones,No such profile\n"  # 12: an unknown profile
    )
    outcomes = [(p.row.number, p.outcome) for p in plan.rows]
    assert outcomes == [
        (2, Outcome.INVITE),
        (3, Outcome.INVITE),
        (4, Outcome.INVITE),
        (5, Outcome.PERSON),
        (6, Outcome.PERSON),
        (7, Outcome.INVITED),
        (8, Outcome.INVITED),
        (9, Outcome.REPEATED),
        (10, Outcome.REPEATED),
        (11, Outcome.ERROR),
        (12, Outcome.ERROR),
    ]
    first = plan.rows[0]
    assert first.team is world.team_a and first.profile is world.profile and not first.new_team
    assert plan.rows[1].new_team and plan.rows[2].new_team
    assert plan.new_teams == {"vilnius": "Vilnius"}
    reasons = {p.row.number: p.reasons for p in plan.rows if p.reasons}
    assert reasons[9] == ["Row 2 has the same name."]
    assert reasons[10] == ["Row 2 has the same e-mail address."]
    assert reasons[11] == [
        "The team “Desk” is archived: choose another team, or bring it back under Teams first."
    ]
    assert reasons[12] == ["There is no role profile called “No such profile”."]
    assert "already here" in reasons[5][0] and "already has this e-mail" in reasons[6][0]
    assert (plan.invitations, plan.skipped, plan.errors, plan.ok) == (3, 6, 2, False)


def test_duplicate_invite_invites_a_second_person_of_the_same_name(world: World) -> None:
    plan = planned(
        "name,email,role,team,role_profile,duplicate\n"
        "Alex Adams,alex2@example.org,agent,Phones,,invite\n"
        "Alex Adams,,agent,Phones,,invite\n"
        "Alex Adams,alex@example.org,agent,Phones,,invite\n"  # an e-mail is one person: skipped
    )
    assert [p.outcome for p in plan.rows] == [Outcome.INVITE, Outcome.INVITE, Outcome.PERSON]
    note = "Invited although the name is taken, as the duplicate column asks."
    assert [p.reasons for p in plan.rows[:2]] == [[note], [note]]


def test_team_names_match_whatever_the_case_in_any_script(world: World) -> None:
    world.team_a.name = "Žalgiris"
    db.session.commit()
    plan = planned(HEADER + "Anna,,agent,ŽALGIRIS,\n")
    assert plan.rows[0].team is world.team_a and plan.new_teams == {}


# --- applying -----------------------------------------------------------------------------------

GOOD = (
    HEADER
    + "Žydrūnė Šimkutė,zydrune@example.lt,agent,Vilnius,Field technician\n"
    + "Łukasz Żółkiewski,lukasz@example.pl,manager,Vilnius,\n"
    + "Анна Кузнецова,,agent,Phones,\n"
    + "João Gonçalves,,trainer,,\n"
    + "Alex Adams,,agent,Phones,\n"
)


def test_applying_creates_teams_and_one_invitation_a_new_row(world: World) -> None:
    before = count(Invitation)
    plan = planned(GOOD)
    with app_request():
        result = import_service.apply(
            plan, actor=world.admin_ada, now=clock.now(), origin="https://coach.example.org"
        )
    db.session.commit()
    vilnius = db.session.scalar(sa.select(Team).where(Team.name == "Vilnius"))
    assert vilnius is not None
    assert count(Invitation) == before + 4
    assert [(p.name, p.email, p.team) for p in result.issued] == [
        ("Žydrūnė Šimkutė", "zydrune@example.lt", "Vilnius"),
        ("Łukasz Żółkiewski", "lukasz@example.pl", "Vilnius"),
        ("Анна Кузнецова", "", "Phones"),
        ("João Gonçalves", "", ""),
    ]
    assert all(p.link.startswith("https://coach.example.org/invite/") for p in result.issued)
    made = {i.name: i for i in db.session.scalars(sa.select(Invitation))}
    assert made["Žydrūnė Šimkutė"].role_profile is world.other_profile
    assert made["Анна Кузнецова"].role_profile is world.profile  # the team's usual profile
    assert (
        made["Łukasz Żółkiewski"].team is vilnius and made["Łukasz Żółkiewski"].role_profile is None
    )
    assert made["João Gonçalves"].team is None
    assert all(i.created_by is world.admin_ada for i in made.values())
    # The token is in the link, never in the database.
    token = result.issued[0].link.rsplit("/", 1)[1]
    assert made["Žydrūnė Šimkutė"].token_hash == invitations.hash_token(token)
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "people.imported")
    )
    assert event.actor is world.admin_ada
    assert event.details == "invited 4, skipped 1, teams created 1"


def test_an_imported_manager_manages_their_team(world: World) -> None:
    plan = planned(HEADER + "Łukasz Żółkiewski,,manager,Vilnius,\n")
    with app_request():
        result = import_service.apply(plan, actor=world.admin_ada, now=clock.now(), origin=None)
    db.session.commit()
    token = result.issued[0].link.rsplit("/", 1)[1]
    invitation = invitations.usable_invitation(token=token, now=clock.now())
    person = invitations.person_for(invitation=invitation, user_handle=b"h" * 32)
    assert [team.name for team in person.managed_teams] == ["Vilnius"] and person.team is None


def test_nothing_is_created_while_a_row_has_an_error(world: World) -> None:
    counts = (count(Invitation), count(Team), count(AuditEvent), count(User))
    plan = planned(GOOD + "Bad Row,,pilot,,\n")
    with pytest.raises(import_service.ImportHasErrors), app_request():
        import_service.apply(plan, actor=world.admin_ada, now=clock.now(), origin=None)
    db.session.rollback()
    assert (count(Invitation), count(Team), count(AuditEvent), count(User)) == counts


def test_the_links_csv_is_safe_to_open_in_a_spreadsheet(app: Flask) -> None:
    issued = [import_service.Issued("=HYPERLINK(1)", "", Role.TRAINER, "", "https://x/invite/t")]
    table = list(csv.reader(io.StringIO(import_service.links_csv(issued))))
    assert table == [
        ["Name", "E-mail", "Team", "Link"],
        ["'=HYPERLINK(1)", "", "", "https://x/invite/t"],
    ]


def app_request():  # type: ignore[no-untyped-def]
    from flask import current_app

    return current_app.test_request_context()


# --- the web flow -------------------------------------------------------------------------------


def upload_file(client: FlaskClient, data: bytes, url: str = PREVIEW):  # type: ignore[no-untyped-def]
    return client.post(
        url, data={"file": (io.BytesIO(data), "people.csv")}, content_type="multipart/form-data"
    )


def hidden_csv(page: str) -> str:
    match = re.search(r'<textarea name="csv" hidden>\n(.*?)</textarea>', page, re.S)
    assert match, "the confirm form carries the previewed rows"
    import html

    return html.unescape(match.group(1))


def test_upload_preview_confirm_and_links(client: FlaskClient, auth: Auth, world: World) -> None:
    auth.login(world.admin_ada)
    assert "Add many people from a CSV file" in client.get("/admin/people").get_data(as_text=True)
    assert "/admin/people/import" in client.get("/invitations").get_data(as_text=True)
    upload_page = client.get(UPLOAD)
    assert upload_page.status_code == 200
    assert 'type="file"' in upload_page.get_data(as_text=True)

    data = ("\ufeff" + GOOD.replace(",", ";")).replace("\n", "\r\n").encode()
    answer = upload_file(client, data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "4 new invitations" in page and "1 skipped" in page
    assert "1 team to be created: Vilnius" in page and "Create 4 invitations" in page
    for name in NAMES:
        assert name in page
    assert "Already a person: skipped" in page
    assert count(Invitation) == 0, "the preview creates nothing"

    answer = client.post(UPLOAD, data={"csv": hidden_csv(page)}, content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "4 invitations created" in page
    assert count(Invitation) == 4
    assert page.count('class="link-sheet"') == 3  # Vilnius, Phones, and no team
    assert page.count("data:image/svg+xml;base64,") == 4
    assert answer.headers["Cache-Control"] == "no-store"
    uri = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)" download="([^"]+)"', page)
    assert uri and uri.group(2).startswith("invitations-")
    table = base64.b64decode(uri.group(1)).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(table)))
    assert lines[0] == ["Name", "E-mail", "Team", "Link"]
    assert [line[:3] for line in lines[1:]] == [
        ["Žydrūnė Šimkutė", "zydrune@example.lt", "Vilnius"],
        ["Łukasz Żółkiewski", "lukasz@example.pl", "Vilnius"],
        ["Анна Кузнецова", "", "Phones"],
        ["João Gonçalves", "", ""],
    ]
    assert all(line[3] in page and "/invite/" in line[3] for line in lines[1:])

    # The same file again: everyone is invited already; nothing more can be created.
    again = upload_file(client, data).get_data(as_text=True)
    assert "0 new invitations" in again and "Already invited: skipped" in again
    assert "there is nothing to create" in again


def test_a_preview_with_errors_is_a_422_that_keeps_the_rows(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.admin_ada)
    text = HEADER + "Анна Кузнецова,,agent,Phones,\nTara Two,,trainer,Phones,\n"
    answer = client.post(PREVIEW, data={"csv": text}, content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "1 row has an error" in page
    assert "A trainer has no team: leave the team empty." in page
    assert 'id="row-3"' in page and "Анна Кузнецова" in page
    assert "Create 1 invitation" not in page
    assert '<textarea id="csv-text" name="csv"' in page and "Tara Two,,trainer,Phones," in page
    # Confirming rows with an error anyway (a crafted form) creates nothing.
    refused = client.post(UPLOAD, data={"csv": text}, content_type="multipart/form-data")
    assert refused.status_code == 422 and count(Invitation) == 0


def test_a_file_that_cannot_be_read_is_a_422_on_the_upload_page(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.admin_ada)
    answer = upload_file(client, (HEADER + "João,,agent,Phones,\n").encode("latin-1"))
    assert answer.status_code == 422
    assert "The file is not UTF-8 text" in answer.get_data(as_text=True)
    answer = client.post(
        PREVIEW, data={"csv": "name;role\nAnna;agent\n"}, content_type="multipart/form-data"
    )
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "The column “email” is missing" in page and "Nothing was created." in page
    assert "name;role\nAnna;agent" in page, "the pasted rows are kept to correct them"
    empty = client.post(PREVIEW, data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "The file is empty" in empty.get_data(as_text=True)


def test_a_file_over_the_upload_limit_gets_a_clear_message(
    client: FlaskClient, auth: Auth, world: World
) -> None:
    auth.login(world.admin_ada)
    big = (HEADER + "x" * 300 * 1024).encode()
    answer = upload_file(client, big)
    assert answer.status_code == 413
    page = answer.get_data(as_text=True)
    assert "The file is larger than 256 KiB" in page and 'type="file"' in page
    auth.login(world.manager_maria)
    assert upload_file(client, big).status_code == 404
    auth.logout()
    assert upload_file(client, big).status_code == 302


# --- the command line ---------------------------------------------------------------------------


def test_cli_dry_run_prints_the_preview_and_creates_nothing(
    runner, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.csv"
    path.write_bytes(("\ufeff" + GOOD).encode())
    result = runner.invoke(args=["people", "import", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert (
        "row 2: New invitation: Žydrūnė Šimkutė (agent, Vilnius (team to be created)"
        in result.output
    )
    assert "row 6: Already a person: skipped: Alex Adams" in result.output
    assert (
        "4 new invitation(s), 1 skipped, 0 error(s); teams to be created: Vilnius." in result.output
    )
    assert "Dry run: nothing was created." in result.output
    assert count(Invitation) == 0 and count(Team) == 2


def test_cli_exits_non_zero_and_creates_nothing_on_an_error(
    runner, world: World, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.csv"
    path.write_text(GOOD + "Tara Two,,trainer,Phones,\n", encoding="utf-8")
    out = tmp_path / "links.csv"
    result = runner.invoke(args=["people", "import", str(path), "--links-out", str(out)])
    assert result.exit_code == 1
    assert "row 7: Error: Tara Two (trainer, Phones)\n    A trainer has no team" in result.output
    assert "1 row(s) with errors: nothing was created" in result.output
    assert count(Invitation) == 0 and count(Team) == 2 and not out.exists()
    path.write_bytes(b"name,role\n")
    result = runner.invoke(args=["people", "import", str(path)])
    assert result.exit_code == 1 and "The column “email” is missing" in result.output


def test_cli_writes_the_links_to_a_new_file(runner, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.csv"
    path.write_text(GOOD, encoding="utf-8")
    out = tmp_path / "links.csv"
    args = ["people", "import", str(path), "--base-url", "https://coach.example.org"]
    result = runner.invoke(args=[*args, "--links-out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 invitation link(s) written to" in result.output and "/invite/" not in result.output
    lines = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert lines[0] == ["Name", "E-mail", "Team", "Link"] and len(lines) == 5
    assert all(line[3].startswith("https://coach.example.org/invite/") for line in lines[1:])
    assert count(Invitation) == 4
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "people.imported"))
    assert event is not None and event.actor is None
    # A links file is never overwritten: refused before anything is created.
    result = runner.invoke(args=[*args, "--links-out", str(out)])
    assert result.exit_code == 2 and "exists" in result.output


def test_cli_prints_the_links_without_links_out(runner, world: World, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Анна Кузнецова,,agent,Phones,\n", encoding="utf-8")
    result = runner.invoke(args=["people", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Name,E-mail,Team,Link" in result.output
    assert re.search(r"Анна Кузнецова,,Phones,http://localhost:5000/invite/\S+", result.output)
    bad = runner.invoke(args=["people", "import", str(path), "--base-url", "coach.example.org"])
    assert bad.exit_code == 2 and "https://" in bad.output
