"""No secret is in the repository: no private key, literal secret key, cloud or GitHub token in any
tracked file, no password in a file that configures the platform or its deployment, and no private file
(the web secret key, demo users' passwords, .env) tracked at all."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

_SECRET_PATTERNS = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE " + r"KEY-----"), "a private key"),
    (re.compile(r"\bSECRET_KEY\s*=\s*[rbuf]?['\"]"), "a literal SECRET_KEY"),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"), "a GitHub token"),
]
_CONFIG_PATTERNS = [
    (re.compile(r"PASSWORD\s*=\s*['\"][^'\"]+['\"]"), "a literal password"),
    (re.compile(r"postgres(?:ql)?://[^:/@\s'\"]+:[^@\s'\"]+@"), "a database URL with a password"),
]
# Files that configure the platform or its deployment: no password may be written in them.
_CONFIG_FILES = re.compile(r"(^src/.*\.py$|^scripts/|^\.ci/|^Makefile$|\.(toml|cfg|ini|ya?ml|env|conf)$)")
_PRIVATE_FILES = re.compile(
    r"(^|/)(web-secret-key|demo-users(-[a-z]+)?\.txt|\.env(\..*)?|id_rsa|id_ed25519)$")


def _tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [f for f in out.decode().split("\0") if f]


def test_no_secret_is_in_the_repository():
    problems = []
    for name in _tracked_files():
        if _PRIVATE_FILES.search(name):
            problems.append(f"{name}: a private file is tracked")
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        patterns = _SECRET_PATTERNS + (_CONFIG_PATTERNS if _CONFIG_FILES.search(name) else [])
        for regex, what in patterns:
            for m in regex.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{name}:{line}: {what}")
    assert not problems, "secrets in tracked files:\n  " + "\n  ".join(problems)


def test_the_secret_scan_finds_what_it_looks_for():
    key = "-----BEGIN RSA PRIVATE " + "KEY-----"
    assert any(r.search(key) for r, _ in _SECRET_PATTERNS)
    assert any(r.search('SECRET_' + 'KEY = "abc"') for r, _ in _SECRET_PATTERNS)
    assert not any(r.search('SECRET_KEY = _secret_key(PRODUCTION)') for r, _ in _SECRET_PATTERNS)
    assert any(r.search("postgres://vru:hunter2@db:5432/vru") for r, _ in _CONFIG_PATTERNS)
    assert not any(r.search("postgres://postgres@127.0.0.1:5432/test") for r, _ in _CONFIG_PATTERNS)
    assert not any(r.search('EMAIL_HOST_PASSWORD = os.environ.get("X", "")') for r, _ in _CONFIG_PATTERNS)
    assert _PRIVATE_FILES.search("data/demo-users.txt") and _PRIVATE_FILES.search("demo-users-tagging.txt")
    assert not _PRIVATE_FILES.search("docs/web.md")
