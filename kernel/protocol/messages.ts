// Jupyter messaging protocol 5.3 types. Field comments quote or paraphrase the protocol's own
// wording (jupyter-client.readthedocs.io, "Messaging in Jupyter").

/** The protocol version claimed in every header and in kernel_info_reply. Clients validate
 *  messages strictly when a kernel claims 5.1 or lower, so claim 5.3 (measured with
 *  jupyter_kernel_test 0.4.5). */
export const PROTOCOL_VERSION = "5.3";

export type Channel = "shell" | "control" | "iopub" | "stdin";

export interface Header {
  /** Typically UUID, must be unique per message. */
  msg_id: string;
  /** Typically UUID, should be unique per session. */
  session: string;
  username: string;
  /** ISO 8601 timestamp for when the message is created. */
  date: string;
  /** All recognized message type strings are listed in the protocol. */
  msg_type: string;
  /** The message protocol version. */
  version: string;
}

/** A message as it travels between the transport and the handler (frames already parsed). */
export interface Message<C = Record<string, unknown>> {
  /** ZeroMQ routing prefix: the identities of the peer, sent back unchanged on replies. */
  identities: Buffer[];
  header: Header;
  /** In a chain of messages, the header from the parent is copied here; `{}` when none. */
  parent_header: Partial<Header>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

export type MimeBundle = Record<string, unknown>;

export interface ExecuteRequest {
  /** Source code to be executed by the kernel, one or more lines. */
  code: string;
  /** A boolean flag which, if True, signals the kernel to execute this code as quietly as
   *  possible: no broadcast on IOPub, store_history forced to False. */
  silent?: boolean;
  /** If true, the kernel populates the history and increments the execution counter. */
  store_history?: boolean;
  /** A dict mapping names to expressions to be evaluated in the user's namespace. */
  user_expressions?: Record<string, string>;
  /** Some frontends do not support stdin requests: if false, input() raises. */
  allow_stdin?: boolean;
  /** If true, aborts the execution queue if an exception is encountered. */
  stop_on_error?: boolean;
}

export interface ErrorContent {
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface CompleteRequest {
  /** The code context in which completion is requested. */
  code: string;
  /** The cursor position within 'code' (in unicode characters) where completion is requested. */
  cursor_pos: number;
}

export interface InspectRequest {
  code: string;
  cursor_pos: number;
  /** 0 or 1: the level of detail desired. */
  detail_level?: number;
}

export interface HistoryRequest {
  output?: boolean;
  raw?: boolean;
  /** So far, this can be 'range', 'tail' or 'search'. */
  hist_access_type?: "range" | "tail" | "search";
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  /** Filter input lines by pattern (glob syntax: * and ?). */
  pattern?: string;
  /** Show only unique (most recent) entries of a search. */
  unique?: boolean;
}

export interface ShutdownRequest {
  /** False if final shutdown, or True if shutdown precedes a restart. */
  restart?: boolean;
}
