"""Shared setup for the Python kernel tests: install the Halo kernelspec (message and signal
interrupt modes) into a temporary Jupyter data folder, and point every JUPYTER_* folder there so
nothing is written to the home folder."""
import atexit
import os
import shutil
import subprocess
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HALO = os.path.join(ROOT, "bin", "halo.js")


def setup_jupyter_env():
    if os.environ.get("HALO_TEST_JUPYTER_DIR"):
        return os.environ["HALO_TEST_JUPYTER_DIR"]
    tmp = tempfile.mkdtemp(prefix="halo-jupyter-")
    atexit.register(shutil.rmtree, tmp, True)
    for var, sub in [
        ("JUPYTER_DATA_DIR", "data"),
        ("JUPYTER_RUNTIME_DIR", "runtime"),
        ("JUPYTER_CONFIG_DIR", "config"),
    ]:
        os.makedirs(os.path.join(tmp, sub), exist_ok=True)
        os.environ[var] = os.path.join(tmp, sub)
    os.environ["JUPYTER_PATH"] = os.path.join(tmp, "data")
    os.environ["JUPYTER_PLATFORM_DIRS"] = "0"
    os.environ["IPYTHONDIR"] = os.path.join(tmp, "ipython")
    for name, mode in [("halo", "message"), ("halo-signal", "signal")]:
        subprocess.run(
            ["node", HALO, "install", "--user", "--name", name, "--interrupt-mode", mode],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    os.environ["HALO_TEST_JUPYTER_DIR"] = tmp
    return tmp
