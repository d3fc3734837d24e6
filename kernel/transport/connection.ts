// The connection file Jupyter writes for a kernel: where to bind and how to sign.
import { readFileSync } from "node:fs";

export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  shell_port: number;
  control_port: number;
  iopub_port: number;
  stdin_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
}

export function readConnectionFile(path: string): ConnectionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`cannot read connection file '${path}': ${(err as Error).message}`);
  }
  const info = raw as Partial<ConnectionInfo>;
  for (const port of [
    "shell_port",
    "control_port",
    "iopub_port",
    "stdin_port",
    "hb_port",
  ] as const) {
    if (typeof info[port] !== "number")
      throw new Error(`connection file '${path}' lacks a numeric ${port}`);
  }
  return {
    ...(info as ConnectionInfo),
    transport: info.transport ?? "tcp",
    ip: info.ip ?? "127.0.0.1",
    key: info.key ?? "",
    signature_scheme: info.signature_scheme ?? "hmac-sha256",
  };
}

export function endpoint(info: ConnectionInfo, port: number): string {
  return info.transport === "ipc" ? `ipc://${info.ip}-${port}` : `tcp://${info.ip}:${port}`;
}
