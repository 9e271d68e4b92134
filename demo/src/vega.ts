/**
 * Vega-Lite rendering shared by the demo's views: a chart per element id, drawn on a canvas;
 * drawing again into the same element replaces (and finalizes) the previous chart.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

const views = new Map<string, View>();

/** Compiles `spec` and renders it into the element `id` (canvas renderer, tooltips on hover). */
export async function render(id: string, spec: TopLevelSpec): Promise<void> {
  views.get(id)?.finalize();
  const el = document.getElementById(id)!;
  el.replaceChildren();
  const view = new View(parse(compile(spec).spec), { renderer: 'canvas', container: el, hover: true });
  views.set(id, view);
  await view.runAsync();
}
