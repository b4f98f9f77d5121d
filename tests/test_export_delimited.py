"""CSV and TSV exports, read back with the csv module, by Anki's importer, and by drill import."""

from __future__ import annotations

import csv
import io

import genanki
import pytest
from export_samples import basic_deck, compute_deck, fake_make

from drill.exchange.export import Format, render
from drill.exchange.importer import read_import

HEADER = [
    "#html:true",
    "#tags column:3",
    "#deck column:4",
    "#guid column:5",
]


def export_text(fmt: Format, decks=None) -> str:
    decks = decks or [basic_deck(), compute_deck()]
    return render(decks, fmt, instances=1, seed=2, make=fake_make).content


@pytest.mark.parametrize(
    ("fmt", "separator", "name"), [(Format.CSV, ",", "Comma"), (Format.TSV, "\t", "Tab")]
)
def test_rows_read_back_with_the_csv_module(fmt, separator, name):
    lines = export_text(fmt).splitlines(keepends=True)
    assert [line.rstrip("\n") for line in lines[:5]] == [f"#separator:{name}", *HEADER]
    rows = list(csv.reader(io.StringIO("".join(lines[5:])), delimiter=separator))

    assert len(rows) == 3
    front, back, tags, deck, guid = rows[0]
    assert front == "<p>Explain the two passes of backpropagation.</p>"
    assert back == (
        "<p><strong>Forward</strong> pass, then the <em>backward</em> pass.</p>\n"
        "<ul>\n<li>chain rule</li>\n<li><code>x &lt; y</code> &amp; more</li>\n</ul>\n"
        '<p class="reference">Goodfellow et al., Deep Learning (2016), §6.5</p>'
    )
    assert tags == "interview core deep-learning"
    assert deck == "drill::Machine learning"
    assert guid == genanki.guid_for("ml/two-passes")
    assert rows[1][2:] == ["deep-learning", "drill::Machine learning", genanki.guid_for("ml/relu")]
    assert rows[2][3:] == ["drill::Gradients", genanki.guid_for("grads/neuron-grad#1")]


def test_anki_reads_the_headers_and_imports_the_notes(tmp_path):
    anki_collection = pytest.importorskip("anki.collection")
    path = tmp_path / "drill.csv"
    path.write_text(export_text(Format.CSV), encoding="utf-8")
    col = anki_collection.Collection(str(tmp_path / "collection.anki2"))
    try:
        metadata = col.get_csv_metadata(str(path), None)
        assert (metadata.tags_column, metadata.deck_column, metadata.guid_column) == (3, 4, 5)
        assert metadata.is_html
        col.import_csv(anki_collection.ImportCsvRequest(path=str(path), metadata=metadata))
        assert col.note_count() == 3
        note = col.get_note(col.find_notes("deck:drill::Gradients")[0])
        assert note.guid == genanki.guid_for("grads/neuron-grad#1")
        assert note.tags == ["compute"]
    finally:
        col.close()


def test_drill_import_reads_its_own_csv_back(tmp_path):
    path = tmp_path / "ml.csv"
    path.write_text(export_text(Format.CSV, [basic_deck()]), encoding="utf-8")
    (deck,) = read_import(path)
    original = basic_deck()
    assert [(c.q, c.a, c.ref) for c in deck.cards] == [(c.q, c.a, c.ref) for c in original.cards]
    assert deck.cards[0].tags == ("interview", "core", "deep-learning")
