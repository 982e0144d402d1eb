"""docs/policies.md covers every policy action that GET /policy/defs publishes.

The rules are in the header of docs/policies.md: one row per defined action and scope, no row for
an undefined action, and every "where" is `not built: <feature>`, `none in privacyIDEA 3.8: <reason>`,
`not enforced yet: <gap>` (exactly the actions in KNOWN_GAPS) or a list of existing source files
that each mention the action (string literal, scope-qualified name such as a
`/* policy: scope.action */` marker, or the type-generic construction of a per-token-type action).  src/lib/policy_defs.c (the definition table) never counts.
"""
import pathlib
import re

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "policies.md"
SCOPES = ("admin", "user", "authentication", "authorization", "enrollment", "webui", "register")
TOKEN_TYPES = ("daplug", "hotp", "motp", "pw", "remote", "spass", "sshkey", "totp", "yubico",
               "yubikey", "radius", "sms", "email", "registration", "certificate", "4eyes", "tiqr",
               "ocra", "u2f", "paper", "question", "vasco", "tan", "push", "indexedsecret",
               "webauthn")
DEFS_FILE = "src/lib/policy_defs.c"
# Actions of built features whose policy is not applied yet (rows `not enforced yet: ...`).
# Closing a gap: point the row to the file(s) and remove the action here.
KNOWN_GAPS = set()
# A line of a token type's own policy description table ({ "scope", "action", "type", ... }):
# a definition, not an evaluation.
DEF_LINE = re.compile(r'^\s*\{\s*"(%s)",\s*"' % "|".join(SCOPES))


def parse_doc(text):
    """{scope: {action: [(where, lineno), ...]}} from the per-scope tables."""
    tables, scope = {}, None
    for no, line in enumerate(text.splitlines(), 1):
        m = re.match(r"^## (\S+)\s*$", line)
        if m:
            scope = m.group(1)
            assert scope in SCOPES, "line %d: unknown scope heading %r" % (no, scope)
            assert scope not in tables, "line %d: second table for scope %s" % (no, scope)
            tables[scope] = {}
            continue
        if scope is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("action", "") or set(cells[0]) <= set("-: "):
            continue
        assert len(cells) == 3, "line %d: a row has 3 cells (action | where | note): %r" % (no, line)
        tables[scope].setdefault(cells[0], []).append((cells[1], no))
    return tables


def type_generic(action):
    """(type, rest) for per-token-type actions: <type>_<rest>, <type>.<rest>, enroll<TYPE>."""
    if action.startswith("enroll") and len(action) > 6 and not action[6].islower() \
            and action != "enrollpin":
        return action[6:].lower(), None
    for t in sorted(TOKEN_TYPES, key=len, reverse=True):
        if action.startswith(t + "_") or action.startswith(t + "."):
            return t, action[len(t):]
    return None, None


def mentions(text, scope, action):
    """Does a source file mention scope/action in one of the documented forms?"""
    lit = '"%s"' % action
    if any(lit in ln and not DEF_LINE.match(ln) for ln in text.splitlines()):
        return True
    sc = "|".join(SCOPES)
    if re.search(r"(?<![A-Za-z0-9_])(?:(?:%s)/)*%s(?:/(?:%s))*\.%s(?![A-Za-z0-9_])"
                 % (sc, scope, sc, re.escape(action)), text):
        return True
    t, rest = type_generic(action)
    if t and rest is None:
        return "enroll<TYPE>" in text
    if t:
        if '"%%s%s"' % rest in text or "<type>%s" % rest in text:
            return True
        if rest[0] == "_" and '"%s_%s"' in text and '"%s"' % rest[1:] in text:
            return True
    return False


@pytest.fixture(scope="module")
def defs(_module_server, pg, tmp_path_factory):
    import harness
    s = harness.Server(tmp_path_factory.mktemp("srv"), pg=pg)
    _module_server["servers"].append(s)
    s.setup()
    s.start()
    r = s.get("/policy/defs", token=s.login())
    assert r.status == 200
    return r.value


def test_defs_are_the_full_table(defs):
    assert sorted(defs) == sorted(SCOPES)
    assert sum(len(v) for v in defs.values()) >= 370


def test_every_action_has_exactly_one_row(defs):
    tables = parse_doc(DOC.read_text())
    assert sorted(tables) == sorted(SCOPES)
    problems = []
    for scope in SCOPES:
        for action in defs[scope]:
            rows = tables[scope].get(action, [])
            if len(rows) != 1:
                problems.append("%s.%s: %d rows" % (scope, action, len(rows)))
        for action, rows in tables[scope].items():
            if action not in defs[scope]:
                problems.append("%s.%s (line %d): not a defined action" % (scope, action, rows[0][1]))
    assert problems == []


def test_every_where_is_true(defs):
    tables = parse_doc(DOC.read_text())
    cache = {}
    problems = []
    gaps = set()
    for scope, rows in tables.items():
        for action, places in rows.items():
            for where, no in places:
                if re.fullmatch(r"not enforced yet: \S.*", where):
                    gaps.add("%s.%s" % (scope, action))
                    continue
                if re.fullmatch(r"not built: \S.*", where) or \
                        re.fullmatch(r"none in privacyIDEA 3\.8: \S.*", where):
                    continue
                files = [f.strip() for f in where.split(",")]
                if not files or not all(re.fullmatch(r"`[^`]+`", f) for f in files):
                    problems.append("line %d %s.%s: bad where %r" % (no, scope, action, where))
                    continue
                for f in (f.strip("`") for f in files):
                    path = REPO / f
                    if f == DEFS_FILE or not f.startswith("src/") or not path.is_file():
                        problems.append("line %d %s.%s: %s is not a source file" % (no, scope, action, f))
                        continue
                    if f not in cache:
                        cache[f] = path.read_text(errors="replace")
                    if not mentions(cache[f], scope, action):
                        problems.append("line %d %s.%s: %s does not mention it" % (no, scope, action, f))
    assert problems == []
    assert sorted(gaps) == sorted(KNOWN_GAPS)


def test_the_checker_can_fail():
    """The rules reject what they must reject."""
    assert not mentions('x = "hotp_hashlibX";', "admin", "hotp_hashlib")
    assert not mentions('/* policy: user.hide_tokeninfo */', "admin", "hide_tokeninfo")
    assert mentions('/* policy: admin/user.hide_tokeninfo */', "admin", "hide_tokeninfo")
    assert not mentions('\t{ "enrollment", "pw_max_token_per_user", "int", NULL, "" },',
                        "enrollment", "pw_max_token_per_user")
    assert mentions('snprintf(a, n, "%s_max_token_per_user", t);', "enrollment", "pw_max_token_per_user")
    assert not mentions('snprintf(a, n, "%s_max_token_per_user", t);', "enrollment", "max_token_per_user")
    tables = parse_doc("## admin\n\n| action | where | note |\n|---|---|---|\n| set | `src/api/routes.c` |  |\n")
    assert tables == {"admin": {"set": [("`src/api/routes.c`", 5)]}}
