/**
 * Turns iopub messages into nbformat 4 outputs, the way Jupyter front ends do:
 * consecutive stream messages of one name merge, `update_display_data`
 * rewrites earlier outputs with the same display id (in any cell), and
 * `clear_output` honours `wait`.
 */
import type { MimeBundle, Output } from '../records/nbformat';
import type { JupyterMessage } from './wire';

/** Collects the outputs of one execute_request. */
export class OutputCollector {
  readonly outputs: Output[] = [];
  /** All stderr text of the cell (tslab reports errors only there). */
  stderr = '';
  private clearOnNext = false;

  /**
   * Applies one iopub message; `displays` maps display ids to outputs across cells.
   * @example collector.add(streamMessage, displays); collector.outputs // [{ output_type: 'stream', name: 'stdout', text: 'hi\n' }]
   */
  add(msg: JupyterMessage, displays: Map<string, Output[]>): void {
    const c = msg.content as Record<string, unknown>;
    const type = msg.header.msg_type;
    if (type === 'clear_output') {
      if (c.wait) this.clearOnNext = true;
      else this.outputs.length = 0;
      return;
    }
    if (type === 'update_display_data') {
      const id = (c.transient as { display_id?: string } | undefined)?.display_id;
      for (const out of (id && displays.get(id)) || []) {
        if (out.output_type === 'display_data' || out.output_type === 'execute_result') {
          out.data = (c.data ?? {}) as MimeBundle;
          out.metadata = (c.metadata ?? {}) as Record<string, unknown>;
        }
      }
      return;
    }
    const out = toOutput(type, c);
    if (!out) return;
    if (this.clearOnNext) {
      this.outputs.length = 0;
      this.clearOnNext = false;
    }
    if (out.output_type === 'stream') {
      if (out.name === 'stderr') this.stderr += out.text;
      const last = this.outputs[this.outputs.length - 1];
      if (last?.output_type === 'stream' && last.name === out.name) {
        last.text += out.text;
        return;
      }
    }
    this.outputs.push(out);
    const id = (c.transient as { display_id?: string } | undefined)?.display_id;
    if (id) displays.set(id, [...(displays.get(id) ?? []), out]);
  }
}

function toOutput(type: string, c: Record<string, unknown>): Output | null {
  switch (type) {
    case 'stream':
      return { output_type: 'stream', name: c.name === 'stderr' ? 'stderr' : 'stdout', text: String(c.text ?? '') };
    case 'display_data':
      return { output_type: 'display_data', data: (c.data ?? {}) as MimeBundle, metadata: (c.metadata ?? {}) as Record<string, unknown> };
    case 'execute_result':
      return {
        output_type: 'execute_result',
        data: (c.data ?? {}) as MimeBundle,
        metadata: (c.metadata ?? {}) as Record<string, unknown>,
        execution_count: typeof c.execution_count === 'number' ? c.execution_count : null,
      };
    case 'error':
      return {
        output_type: 'error',
        ename: String(c.ename ?? 'Error'),
        evalue: String(c.evalue ?? ''),
        traceback: Array.isArray(c.traceback) ? c.traceback.map(String) : [],
      };
    default:
      return null; // status, execute_input and comm messages carry no output
  }
}
