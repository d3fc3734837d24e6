"""jupyter_kernel_test (the Jupyter project's conformance suite) against the Halo kernel, with
every sample attribute filled in: all 12 tests must pass."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from kernel_env import setup_jupyter_env  # noqa: E402

setup_jupyter_env()

import jupyter_kernel_test as jkt  # noqa: E402  (as a module: see docs/kernel.md)


class HaloKernelTests(jkt.KernelTests):
    kernel_name = "halo"
    language_name = "typescript"
    file_extension = ".ts"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A variable from an earlier cell, for the completion sample.
        cls.kc.execute_interactive("const myEarlierVariable: number = 41", timeout=30)

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("some error")'
    completion_samples = [
        {"text": "myEarlierVar", "matches": {"myEarlierVariable"}},
        {"text": "Math.ma", "matches": {"max"}},
        {"text": 'const abcdefg = 1;\nabcde', "matches": {"abcdefg"}},
    ]
    complete_code_samples = ["1", 'console.log("hello, world")', "const x: number = 1", "function f() {\n  return 1;\n}"]
    incomplete_code_samples = ["function f() {", "const s = `abc", "if (true) {\n  1", "[1, 2,"]
    invalid_code_samples = ["const = 1", "1 + )", "}"]
    code_page_something = "Math.max?"
    code_generate_error = 'throw new Error("boom")'
    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"a" + "b"', "result": "'ab'"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
    ]
    code_display_data = [
        {"code": 'display.html("<b>hi</b>")', "mime": "text/html"},
        {"code": 'display.svg("<svg xmlns=\\"http://www.w3.org/2000/svg\\"></svg>")', "mime": "image/svg+xml"},
        {
            "code": 'display.vegalite({ mark: "bar", data: { values: [{ a: 1 }] }, encoding: { x: { field: "a" } } })',
            "mime": "application/vnd.vegalite.v5+json",
        },
    ]
    code_history_pattern = "6 * 7"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "Math.max"
    code_clear_output = "clearOutput()"


if __name__ == "__main__":
    unittest.main()
