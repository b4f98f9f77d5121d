"""The HTML markdown-it gave earlier exports, kept in the home (drill.exchange.rendercache):
rendered once, the same HTML after, and never in the way of an export."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from export_samples import basic_deck, compute_deck, fake_make

from drill.exchange import html, rendercache
from drill.exchange.export import Format, render
from drill.exchange.rendercache import FILE_NAME, kept_renderings, rendered
from drill.home.paths import get_paths

T0 = 1_700_000_000.0


def _collection(package: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        return archive.read("collection.anki2")


class Counted:
    """A renderer that says how often it ran."""

    def __init__(self):
        self.sources: list[str] = []

    def __call__(self, source: str) -> str:
        self.sources.append(source)
        return f"<p>{source.upper()}</p>"


def test_a_second_export_reads_what_the_first_rendered(tmp_path):
    path, render_ = tmp_path / FILE_NAME, Counted()
    for _ in range(2):
        with kept_renderings("r1", path):
            assert rendered("block", "**a**", render_) == "<p>**A**</p>"
            assert rendered("block", "**a**", render_) == "<p>**A**</p>"
            assert rendered("inline", "**a**", render_) == "<p>**A**</p>"
    assert render_.sources == ["**a**", "**a**"]  # once per kind, in the first export only
    assert json.loads(path.read_text())["block"] == {"**a**": "<p>**A**</p>"}


def test_another_renderer_or_a_damaged_file_renders_again(tmp_path):
    path, render_ = tmp_path / FILE_NAME, Counted()
    with kept_renderings("r1", path):
        rendered("block", "x", render_)
    with kept_renderings("r2", path):  # markdown-it or html.py changed
        rendered("block", "x", render_)
    assert json.loads(path.read_text())["renderer"] == "r2"
    for damage in ("{", "[]", '{"renderer": "r2", "block": {"x": 1}, "inline": {}}'):
        path.write_text(damage)
        with kept_renderings("r2", path):
            rendered("block", "x", render_)
    assert len(render_.sources) == 5


def test_nothing_kept_outside_an_export_or_when_the_file_cannot_be_written(tmp_path):
    render_ = Counted()
    rendered("block", "x", render_)
    rendered("block", "x", render_)
    folder = tmp_path / "file-not-folder"
    folder.write_text("")
    with kept_renderings("r1", folder / FILE_NAME):  # no error, nothing written
        rendered("block", "x", render_)
    assert len(render_.sources) == 3


def test_a_failed_export_writes_nothing(tmp_path):
    path = tmp_path / FILE_NAME
    with pytest.raises(KeyError), kept_renderings("r1", path):
        rendered("block", "x", Counted())
        raise KeyError
    assert not path.exists()


def test_past_the_limit_only_this_exports_renderings_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(rendercache, "MAX_ENTRIES", 3)
    path = tmp_path / FILE_NAME
    with kept_renderings("r1", path):
        for source in "abc":
            rendered("block", source, Counted())
    with kept_renderings("r1", path):
        rendered("block", "c", Counted())
        rendered("inline", "d", Counted())
    kept = json.loads(path.read_text())
    assert (kept["block"], kept["inline"]) == ({"c": "<p>C</p>"}, {"d": "<p>D</p>"})


def test_exports_with_kept_html_are_the_same_and_skip_markdown_it(monkeypatch):
    calls = Counted()
    block = html._markdown_block
    monkeypatch.setattr(html, "_markdown_block", lambda source: calls(source) and block(source))
    decks = [basic_deck(), compute_deck()]
    outputs = []
    for fmt in (Format.APKG, Format.APKG, Format.CSV):
        html.markdown_html.cache_clear()
        rendered_ = render(decks, fmt, instances=2, make=fake_make, timestamp=T0)
        outputs.append(rendered_.content)
    assert _collection(outputs[0]) == _collection(outputs[1])
    assert sorted(calls.sources) == [basic_deck().cards[0].a, "What is `ReLU`?"]  # once each
    assert (get_paths().data_dir / FILE_NAME).is_file()
    assert "<li>chain rule</li>" in outputs[2]


def test_the_renderer_is_named_by_the_versions_the_packages_give():
    import markdown_it
    import mdurl

    from drill.exchange.rendercache import package_version, renderer_id

    assert package_version("markdown_it") == markdown_it.__version__
    assert package_version("mdurl") == mdurl.__version__
    assert renderer_id().startswith(
        f"markdown-it-py {markdown_it.__version__}, mdurl {mdurl.__version__}, html "
    )
