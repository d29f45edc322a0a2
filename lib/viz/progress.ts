/**
 * Progress of a long loop: step, loss terms, steps/s and ETA.
 *
 * In a notebook, one output updated in place (tslab `newDisplay`), never a line
 * per step. In a terminal, a bar redrawn on one line; in a log (not a TTY), one
 * line every tenth of the way.
 */
import { escapeHtml, LiveOutput, newLiveOutput } from './display';

export interface ProgressOptions {
  label?: string;
  /** Minimum milliseconds between redraws (default 250). */
  intervalMs?: number;
  /** Print nothing (values are still tracked). */
  quiet?: boolean;
}

export interface Progress {
  /** Report that `step` steps are done, with the latest loss terms. */
  update(step: number, values?: Record<string, number>): void;
  /** Final redraw; returns the elapsed seconds. */
  done(values?: Record<string, number>): number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function formatValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
  return v.toPrecision(4);
}

export function progress(total: number, options: ProgressOptions = {}): Progress {
  const label = options.label ?? 'training';
  const intervalMs = options.intervalMs ?? 250;
  const live: LiveOutput | undefined = options.quiet ? undefined : newLiveOutput();
  const tty = !live && !options.quiet && Boolean(process.stderr.isTTY);
  const start = Date.now();
  let lastDraw = 0;
  let lastLoggedTenth = -1;
  let rateStart: { step: number; time: number } | undefined;
  let latest: Record<string, number> = {};
  let current = 0;

  const stats = () => {
    const now = Date.now();
    // The first step includes warm-up (kernel compilation, allocation), so the rate
    // is measured from the first reported step on.
    const rate =
      rateStart && current > rateStart.step ? ((current - rateStart.step) * 1000) / (now - rateStart.time || 1) : NaN;
    const eta = (total - current) / rate;
    return { rate, eta, elapsed: (now - start) / 1000 };
  };

  const terms = () =>
    Object.entries(latest)
      .map(([k, v]) => `${k} ${formatValue(v)}`)
      .join(' · ');

  const draw = (final: boolean) => {
    const { rate, eta, elapsed } = stats();
    const fraction = total > 0 ? Math.min(1, current / total) : 1;
    const speed = Number.isFinite(rate) ? `${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)} steps/s` : '';
    const timing = final ? `${formatDuration(elapsed)} total` : `ETA ${formatDuration(eta)}`;
    if (live) {
      const percent = (100 * fraction).toFixed(1);
      live.html(
        `<div class="genlab-progress" style="font-family:monospace;font-size:13px;line-height:1.6">` +
          `<div><b>${escapeHtml(label)}</b> ${current}/${total} · ${escapeHtml([terms(), speed, timing].filter(Boolean).join(' · '))}</div>` +
          `<div style="width:420px;height:10px;background:#e5e7eb;border-radius:5px;overflow:hidden">` +
          `<div style="width:${percent}%;height:100%;background:${final ? '#16a34a' : '#2563eb'}"></div></div></div>`,
      );
    } else if (tty) {
      const width = 24;
      const filled = Math.round(width * fraction);
      const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${current}/${total} ${[terms(), speed, timing].filter(Boolean).join(' · ')}`;
      process.stderr.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    } else if (!options.quiet) {
      const tenth = Math.floor(fraction * 10);
      if (final || tenth > lastLoggedTenth) {
        lastLoggedTenth = tenth;
        console.log(
          `${label}: ${current}/${total} ${[terms(), speed, final ? timing : `ETA ${formatDuration(eta)}`].filter(Boolean).join(' · ')}`,
        );
      }
    }
  };

  return {
    update(step, values) {
      current = step;
      if (values) latest = values;
      const now = Date.now();
      rateStart ??= { step, time: now };
      if (now - lastDraw >= intervalMs || step >= total) {
        lastDraw = now;
        draw(false);
      }
    },
    done(values) {
      if (values) latest = values;
      draw(true);
      return (Date.now() - start) / 1000;
    },
  };
}
