"""Shared fixtures: the bundled sample collection (MED, 1,033 abstracts) indexed by
the `hymir` CLI, so that the module's answers can be checked against the CLI's."""

import json
import os
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(os.environ.get("HYMIR_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BIN_DIR = Path(os.environ.get("HYMIR_BIN_DIR", SOURCE_DIR / "build" / "bin"))
SAMPLE = SOURCE_DIR / "data" / "sample"


def cli(*args: str) -> str:
    """Runs build/bin/hymir and returns its standard output (fails the test on an error)."""
    out = subprocess.run([str(BIN_DIR / "hymir"), *args], check=True, capture_output=True, text=True)
    return out.stdout


def cli_json(*args: str):
    return json.loads(cli(*args))


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory) -> str:
    """The sample indexed with BM25 and lsa:128 vectors, as scripts/demo.sh indexes it."""
    index = tmp_path_factory.mktemp("sample") / "index"
    cli("index", "--corpus", str(SAMPLE / "corpus.jsonl"), "--index", str(index), "--embed", "lsa:128",
        "--threads", "2")
    return str(index)


@pytest.fixture(scope="session")
def sample_queries():
    with open(SAMPLE / "queries.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
