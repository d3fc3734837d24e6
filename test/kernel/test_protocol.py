"""Protocol checks that jupyter_kernel_test lacks, driven with jupyter_client: execute_input and
counts, update_display_data, traceback line numbers, interrupts that keep state (message and
signal mode), the stdin round trip, comm_info, nothing after idle, and a prompt shutdown."""
import json
import os
import sys
import time
import unittest
from queue import Empty

sys.path.insert(0, os.path.dirname(__file__))
from kernel_env import setup_jupyter_env  # noqa: E402

setup_jupyter_env()

from jupyter_client.manager import start_new_kernel  # noqa: E402
from jupyter_client.session import Session  # noqa: E402

TIMEOUT = 20


def collect(kc, msg_id, timeout=TIMEOUT):
    """iopub messages for msg_id up to and including its idle, in order."""
    out = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out
    raise AssertionError("no idle for %s" % msg_id)


def shell_reply(kc, msg_id, timeout=TIMEOUT):
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return reply


class KernelCase(unittest.TestCase):
    kernel_name = "halo"

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, startup_timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)

    def execute(self, code, **kw):
        msg_id = self.kc.execute(code, **kw)
        reply = shell_reply(self.kc, msg_id)
        return reply, collect(self.kc, msg_id)

    def drain_iopub(self):
        while True:
            try:
                self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                return


class Protocol(KernelCase):
    def test_execute_input_and_counts(self):
        r1, out1 = self.execute("1 + 1")
        r2, out2 = self.execute("2 + 2")
        c1, c2 = r1["content"]["execution_count"], r2["content"]["execution_count"]
        self.assertEqual(c2, c1 + 1)
        inputs = [m for m in out2 if m["msg_type"] == "execute_input"]
        self.assertEqual(len(inputs), 1)
        self.assertEqual(inputs[0]["content"]["execution_count"], c2)
        self.assertEqual(inputs[0]["content"]["code"], "2 + 2")
        result = [m for m in out2 if m["msg_type"] == "execute_result"][0]
        self.assertEqual(result["content"]["execution_count"], c2)
        self.assertEqual(result["content"]["data"]["text/plain"], "4")
        # store_history false: no new count
        r3, _ = self.execute("3", store_history=False)
        self.assertEqual(r3["content"]["execution_count"], c2)
        # silent: nothing but busy/idle on iopub
        _, out4 = self.execute("4", silent=True)
        self.assertEqual([m["msg_type"] for m in out4], ["status", "status"])

    def test_update_display_data(self):
        _, out = self.execute(
            'display({"text/plain": "0%"}, { id: "p1" });\n'
            'display({"text/plain": "100%"}, { id: "p1", update: true });'
        )
        types = [m["msg_type"] for m in out]
        self.assertIn("display_data", types)
        self.assertIn("update_display_data", types)
        upd = [m for m in out if m["msg_type"] == "update_display_data"][0]
        self.assertEqual(upd["content"]["transient"]["display_id"], "p1")
        self.assertEqual(upd["content"]["data"]["text/plain"], "100%")

    def test_traceback_line_numbers(self):
        code = "type T = { a: number };\n\nfunction boom(t: T): number {\n  throw new RangeError(`bad ${t.a}`);\n}\nboom({ a: 3 });"
        reply, out = self.execute(code)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "RangeError")
        self.assertEqual(reply["content"]["evalue"], "bad 3")
        tb = "\n".join(reply["content"]["traceback"])
        count = reply["content"]["execution_count"]
        self.assertIn("at boom (In[%d]:4:" % count, tb)
        self.assertIn("In[%d]:6:" % count, tb)
        self.assertNotIn("node:internal", tb)
        self.assertNotIn("/kernel/", tb)
        errors = [m for m in out if m["msg_type"] == "error"]
        self.assertEqual(len(errors), 1)

    def test_stdin_round_trip(self):
        msg_id = self.kc.execute('const answer = input("name? "); `hello ${answer}`', allow_stdin=True)
        req = self.kc.get_stdin_msg(timeout=TIMEOUT)
        self.assertEqual(req["msg_type"], "input_request")
        self.assertEqual(req["content"]["prompt"], "name? ")
        self.assertEqual(req["parent_header"]["msg_id"], msg_id)
        self.kc.input("world")
        reply = shell_reply(self.kc, msg_id)
        self.assertEqual(reply["content"]["status"], "ok")
        out = collect(self.kc, msg_id)
        result = [m for m in out if m["msg_type"] == "execute_result"][0]
        self.assertEqual(result["content"]["data"]["text/plain"], "'hello world'")
        # a frontend that does not allow stdin gets an error, not a hang
        reply, _ = self.execute('input("x")', allow_stdin=False)
        self.assertEqual(reply["content"]["status"], "error")

    def test_comm_info_and_unknown_comm(self):
        msg_id = self.kc.comm_info()
        reply = shell_reply(self.kc, msg_id)
        self.assertEqual(reply["msg_type"], "comm_info_reply")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertEqual(reply["content"]["comms"], {})
        msg = self.kc.session.msg("comm_open", {"comm_id": "c1", "target_name": "nothing", "data": {}})
        self.kc.shell_channel.send(msg)
        out = collect(self.kc, msg["header"]["msg_id"])
        self.assertIn("comm_close", [m["msg_type"] for m in out])

    def test_nothing_after_idle(self):
        code = 'console.log("a"); display.html("<i>b</i>"); await new Promise((r) => setTimeout(r, 50)); console.error("c"); 7'
        msg_id = self.kc.execute(code)
        shell_reply(self.kc, msg_id)
        out = collect(self.kc, msg_id)
        self.assertEqual(out[0]["content"].get("execution_state"), "busy")
        types = [m["msg_type"] for m in out]
        self.assertIn("stream", types)
        self.assertIn("execute_result", types)
        late = []
        deadline = time.time() + 1.0
        while time.time() < deadline:
            try:
                m = self.kc.get_iopub_msg(timeout=0.2)
            except Empty:
                continue
            if m["parent_header"].get("msg_id") == msg_id:
                late.append(m["msg_type"])
        self.assertEqual(late, [])

    def test_late_output_goes_to_the_next_cell(self):
        # A timer's output after its cell's idle: never published for that finished request
        # (clients stop listening then), shown at the top of the next executed cell instead.
        reply, _ = self.execute('setTimeout(() => console.log("late"), 100); 1')
        first = reply["parent_header"]["msg_id"]
        time.sleep(0.6)
        later = []
        while True:
            try:
                later.append(self.kc.get_iopub_msg(timeout=0.2))
            except Empty:
                break
        self.assertEqual([m for m in later if m["parent_header"].get("msg_id") == first], [])
        reply, out = self.execute('console.log("own"); 2')
        text = "".join(m["content"]["text"] for m in out if m["msg_type"] == "stream")
        self.assertEqual(text, "late\nown\n")

    def test_every_reply_has_status(self):
        for send in (
            lambda: self.kc.kernel_info(),
            lambda: self.kc.complete("Math.", 5),
            lambda: self.kc.inspect("nothingHere123", 5),
            lambda: self.kc.is_complete("1 +"),
            lambda: self.kc.history(hist_access_type="tail", n=2),
        ):
            msg_id = send()
            reply = shell_reply(self.kc, msg_id)
            self.assertIn("status", reply["content"], reply["msg_type"])

    def test_uncaught_callback_error_fails_its_cell(self):
        reply, _ = self.execute('setTimeout(() => { throw new Error("late") }, 10); await new Promise((r) => setTimeout(r, 200));')
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["evalue"], "late")
        reply, _ = self.execute('Promise.reject(new Error("rejected")); await new Promise((r) => setTimeout(r, 100));')
        self.assertEqual(reply["content"]["status"], "error")
        reply, out = self.execute("40 + 2")
        self.assertEqual(reply["content"]["status"], "ok")

    def test_typescript_import_reaches_the_display_host(self):
        # The kernel starts without tsx: importing a .ts file registers it and installs the
        # display host on the module instance src/ uses.
        fixture = os.path.join(ROOT, "test", "kernel", "fixtures", "uses-host.ts")
        reply, out = self.execute('import { show } from %s;\nshow("from src")' % json.dumps(fixture))
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        shown = [m for m in out if m["msg_type"] == "display_data"]
        self.assertEqual(shown[0]["content"]["data"]["text/plain"], "from src")
        result = [m for m in out if m["msg_type"] == "execute_result"][0]
        self.assertEqual(result["content"]["data"]["text/plain"], "true")

    def test_forged_signature_is_not_executed(self):
        forger = Session(key=b"not-the-key", session=self.kc.session.session)
        msg = forger.msg("execute_request", {"code": "globalThis.forged = 1", "silent": False})
        forger.send(self.kc.shell_channel.socket, msg)
        time.sleep(0.5)
        reply, out = self.execute("typeof globalThis.forged")
        result = [m for m in out if m["msg_type"] == "execute_result"][0]
        self.assertEqual(result["content"]["data"]["text/plain"], "'undefined'")


class InterruptMixin:
    def check_interrupt_keeps_state(self):
        reply, _ = self.execute("let kept = 41; kept")
        self.assertEqual(reply["content"]["status"], "ok")
        # a synchronous busy loop
        msg_id = self.kc.execute("kept = 42; while (true) {}")
        time.sleep(1.0)
        started = time.time()
        self.km.interrupt_kernel()
        reply = shell_reply(self.kc, msg_id)
        print("measure: busy-loop interrupt reply after %.0f ms" % ((time.time() - started) * 1000))
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        collect(self.kc, msg_id)
        # a pending await, with the cell's AbortSignal aborted
        msg_id = self.kc.execute(
            "const { currentSignal } = await import(" + repr(os.path.join(ROOT, "src", "cancel.ts")) + ");\n"
            "globalThis.sig = currentSignal();\n"
            "await new Promise(() => {});"
        )
        time.sleep(1.5)
        self.km.interrupt_kernel()
        reply = shell_reply(self.kc, msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        collect(self.kc, msg_id)
        reply, out = self.execute("`${kept} ${globalThis.sig.aborted}`")
        result = [m for m in out if m["msg_type"] == "execute_result"][0]
        self.assertEqual(result["content"]["data"]["text/plain"], "'42 true'")


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


class InterruptMessageMode(KernelCase, InterruptMixin):
    kernel_name = "halo"

    def test_interrupt_keeps_state(self):
        self.assertEqual(self.km.kernel_spec.interrupt_mode, "message")
        self.check_interrupt_keeps_state()


class InterruptSignalMode(KernelCase, InterruptMixin):
    kernel_name = "halo-signal"

    def test_interrupt_keeps_state(self):
        self.assertEqual(self.km.kernel_spec.interrupt_mode, "signal")
        self.check_interrupt_keeps_state()


class InterruptThatCannotLand(KernelCase):
    def test_says_to_restart_when_an_interrupt_does_not_land(self):
        # A busy loop after an `await` cannot be interrupted on Node 20: within about 2 s of the
        # interrupt the cell says so on stderr (the kernel is then stopped by tearDownClass).
        msg_id = self.kc.execute("await null; while (true) {}")
        time.sleep(1.0)
        self.km.interrupt_kernel()
        deadline = time.time() + 10
        text = ""
        while time.time() < deadline and "Restart the kernel" not in text:
            try:
                m = self.kc.get_iopub_msg(timeout=0.5)
            except Empty:
                continue
            if m["parent_header"].get("msg_id") == msg_id and m["msg_type"] == "stream":
                self.assertEqual(m["content"]["name"], "stderr")
                text += m["content"]["text"]
        self.assertIn("did not stop this cell within 2 s", text)
        self.assertIn("Restart the kernel", text)


class Shutdown(unittest.TestCase):
    def test_shutdown_within_5s(self):
        km, kc = start_new_kernel(kernel_name="halo", startup_timeout=60)
        try:
            kc.execute_interactive("const z = 1", timeout=TIMEOUT)
            started = time.time()
            msg_id = kc.shutdown()
            reply = kc.get_control_msg(timeout=5) if hasattr(kc, "get_control_msg") else None
            if reply is not None:
                self.assertEqual(reply["content"]["status"], "ok")
            deadline = started + 5
            while km.is_alive() and time.time() < deadline:
                time.sleep(0.05)
            self.assertFalse(km.is_alive(), "kernel still alive 5 s after shutdown_request")
            print("measure: shutdown took %.0f ms" % ((time.time() - started) * 1000))
            del msg_id
        finally:
            kc.stop_channels()
            if km.is_alive():
                km.shutdown_kernel(now=True)

    def test_shutdown_during_a_collect_exits_cleanly(self):
        # The model runs in a worker thread: exiting while it is inside onnxruntime would abort
        # the process (SIGABRT), so shutdown ends the model threads first and exits with 0.
        km, kc = start_new_kernel(kernel_name="halo", startup_timeout=60)
        proc = km.provisioner.process
        try:
            code = (
                "const rows = Array.from({ length: 48 }, (_, i) => ({ id: i, text: 'a long review of a fine product '.repeat(12) + i }));\n"
                "globalThis.pending = halo.lazy(rows).agent({ prompt: 'Summarize: {{text}}', output: 's', maxTokens: 32 }).collect().catch(() => null);\n"
                "await new Promise((r) => setTimeout(r, 1500));\n"
                "'started'"
            )
            reply = kc.execute_interactive(code, timeout=60)
            self.assertEqual(reply["content"]["status"], "ok")
            kc.shutdown()
            self.assertEqual(proc.wait(timeout=60), 0)
        finally:
            kc.stop_channels()
            if km.is_alive():
                km.shutdown_kernel(now=True)


if __name__ == "__main__":
    unittest.main()
