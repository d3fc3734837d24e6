// A kernel whose frontend died exits by itself. jupyter_client puts its pid in JPY_PARENT_PID;
// when that process is SIGKILLed it cannot ask for shutdown, and the kernel (its ports, its
// models in memory) would otherwise run on forever. ipykernel polls the same way (ParentPoller).

/** Once a second: a dead parent is noticed within about a second, at no measurable cost. */
const POLL_MS = 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Calls `onGone` once when the process named by `JPY_PARENT_PID` has died. Without the variable
 * (started by hand, or by a client that does not set it) nothing is watched. Returns a stop.
 */
export function watchParent(
  onGone: (pid: number) => void,
  env: NodeJS.ProcessEnv = process.env,
): () => void {
  const pid = Number(env.JPY_PARENT_PID);
  if (!Number.isInteger(pid) || pid <= 1) return () => {};
  // A direct parent that dies leaves a zombie until reaped, which signal 0 still finds; our
  // parent pid changing (we were re-parented) says it sooner.
  const direct = process.ppid === pid;
  const timer = setInterval(() => {
    if (alive(pid) && (!direct || process.ppid === pid)) return;
    clearInterval(timer);
    onGone(pid);
  }, POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
