"""`jupyter nbconvert --to notebook --execute` runs every notebook in notebooks/ (and our
fixtures) with the Halo kernel; with nbclient per cell, the kernel itself reports counts."""
import glob
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from kernel_env import ROOT, setup_jupyter_env  # noqa: E402

setup_jupyter_env()

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
PASSING = sorted(glob.glob(os.path.join(ROOT, "notebooks", "*.ipynb"))) + [os.path.join(FIXTURES, "basic.ipynb")]


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
