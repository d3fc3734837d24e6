// Peak RSS and CPU busy fraction of this process while a system runs. Sampling alone misses a
// peak reached while the event loop is blocked (a synchronous model step), so the lifetime
// maxRSS from getrusage is consulted too: if it grew during the run, the run set it.
import { availableParallelism } from "node:os";

export interface ResourceSample {
  peakRssMb: number;
  cpuBusy: number;
}

export function startResourceMonitor(intervalMs = 20): { stop(): ResourceSample } {
  const maxRssBeforeKb = process.resourceUsage().maxRSS;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > peak) peak = rss;
  }, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage.rss());
      const maxRssAfterKb = process.resourceUsage().maxRSS;
      if (maxRssAfterKb > maxRssBeforeKb) peak = Math.max(peak, maxRssAfterKb * 1024);
      const cpu = process.cpuUsage(cpuBefore);
      const wallUs = (performance.now() - started) * 1000;
      return {
        peakRssMb: peak / (1024 * 1024),
        cpuBusy: wallUs > 0 ? (cpu.user + cpu.system) / (wallUs * availableParallelism()) : 0,
      };
    },
  };
}
