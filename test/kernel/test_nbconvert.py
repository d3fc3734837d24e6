"""`jupyter nbconvert --to notebook --execute` runs every notebook in notebooks/ (and our
fixtures) with the Halo kernel, and the saved outputs carry the display bundles frontends need;
with nbclient per cell, the kernel itself reports counts."""
import glob
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))
from kernel_env import ROOT, setup_jupyter_env  # noqa: E402

setup_jupyter_env()

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SHIPPED = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb")))
PASSING = SHIPPED + [os.path.join(FIXTURES, "basic.ipynb")]
VEGA_LITE = "application/vnd.vegalite.v5+json"


def rich_outputs(nb):
    return [
        (i, o)
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type in ("display_data", "execute_result")
    ]


class NbConvert(unittest.TestCase):
    def test_every_notebook_executes(self):
        for path in PASSING:
            with self.subTest(notebook=os.path.basename(path)), tempfile.TemporaryDirectory() as out:
                r = subprocess.run(
                    ["jupyter", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=halo",
                     "--ExecutePreprocessor.timeout=600", "--output-dir", out, path],
                    capture_output=True, text=True, cwd=os.path.dirname(path),
                )
                self.assertEqual(r.returncode, 0, r.stderr[-3000:])
                executed = nbformat.read(os.path.join(out, os.path.basename(path)), as_version=4)
                nbformat.validate(executed)
                errors = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
                self.assertEqual(errors, [])
                self.check_bundles(executed, shipped=path in SHIPPED)

    def check_bundles(self, nb, shipped):
        """What each frontend picks from a saved output: JupyterLab the vega-lite spec, classic
        notebook 6 and nbconvert's HTML the text/html (they have no vega-lite renderer, and
        nbconvert 6.5 empties image/svg+xml), consoles and diffs the text/plain."""
        tables = charts = 0
        for i, o in rich_outputs(nb):
            where = f"cell {i}"
            plain = o.data.get("text/plain")
            self.assertIsInstance(plain, str, f"{where}: every display carries a text/plain fallback")
            self.assertTrue(plain.strip(), f"{where}: empty text/plain")
            html = o.data.get("text/html", "")
            if "halo-progress" in html:
                # Updated in place: what is saved is the final state, never a bar still running.
                self.assertRegex(plain, r"done in", f"{where}: progress left unfinished: {plain}")
            if "<table" in html:
                tables += 1
            if "image/svg+xml" in o.data:
                ET.fromstring(o.data["image/svg+xml"])  # raises on malformed SVG
            if VEGA_LITE in o.data:
                charts += 1
                spec = o.data[VEGA_LITE]
                # A JSON object in the notebook, not a string: JupyterLab renders only that.
                self.assertIsInstance(spec, dict, f"{where}: the vega-lite spec is a JSON object")
                self.assertIn("vega-lite/v5", spec.get("$schema", ""), f"{where}: a vega-lite 5 spec")
                if shipped:
                    # Halo's charts (the fixture's raw `display.vegalite(spec)` sends the spec as
                    # given, which classic notebook 6 shows as its JSON text).
                    self.assertIn("image/svg+xml", o.data, f"{where}: a chart carries its SVG")
                    self.assertIn("<svg", html, f"{where}: a chart's text/html holds the SVG inline")
                    self.assertNotIn("<script", html, f"{where}: no script to render it (nbconvert runs none)")
        if shipped:
            # The shipped notebooks are the showcase: each shows a result table and a chart.
            self.assertGreater(tables, 0, "no HTML table in the outputs")
            self.assertGreater(charts, 0, f"no {VEGA_LITE} chart in the outputs")

    def test_failing_notebook_fails(self):
        with tempfile.TemporaryDirectory() as out:
            r = subprocess.run(
                ["jupyter", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=halo",
                 "--output-dir", out, os.path.join(FIXTURES, "failing.ipynb")],
                capture_output=True, text=True,
            )
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("this cell fails", r.stderr)

    def test_kernel_reports_execution_counts(self):
        nb = nbformat.read(os.path.join(FIXTURES, "basic.ipynb"), as_version=4)
        client = NotebookClient(nb, kernel_name="halo", timeout=120, resources={"metadata": {"path": FIXTURES}})
        with client.setup_kernel():
            counts = []
            for i, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    client.execute_cell(cell, i)
                    counts.append(cell.execution_count)
        self.assertEqual(counts, list(range(1, len(counts) + 1)))


if __name__ == "__main__":
    unittest.main()
