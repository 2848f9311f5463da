// A line chart that grows while a loop runs (training curves), redrawn in place.
import { checkFigureOptions, lineFigure, type ChartOptions, type Figure } from "./figures";
import { checkBoolean } from "../core/checks";
import { checkInterval, LivePlot } from "./show";

export class LiveLineChart {
  private readonly lines = new Map<string, { x: number[]; y: number[] }>();
  private readonly plot: LivePlot;

  /** One line per name, empty at first. */
  constructor(
    names: string[],
    private readonly options: ChartOptions & { logY?: boolean } = {},
    minIntervalMs = 250,
  ) {
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === "string")) {
      throw new Error("LiveLineChart: expected the names of the lines, e.g. ['train loss']");
    }
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new Error(`LiveLineChart: the name '${twice}' is given twice; expected one name per line`);
    checkFigureOptions(options, "LiveLineChart");
    if (options.logY !== undefined) checkBoolean(options.logY, "LiveLineChart", "logY");
    checkInterval(minIntervalMs, "LiveLineChart");
    for (const n of names) this.lines.set(n, { x: [], y: [] });
    this.plot = new LivePlot(this.figure(), minIntervalMs);
  }

  /** Add a point (x, y) to line `name`, and redraw if enough time has passed. */
  push(name: string, x: number, y: number): void {
    const line = this.lines.get(name);
    if (!line) throw new Error(`LiveLineChart: no line named '${name}'; the lines are ${[...this.lines.keys()].join(", ")}`);
    if (typeof x !== "number" || typeof y !== "number" || !Number.isFinite(x) || !Number.isFinite(y)) {
      throw new Error(
        `LiveLineChart.push: the point (${String(x)}, ${String(y)}) of line '${name}' is not two finite numbers (a loss of NaN means the training diverged: lower the learning rate)`,
      );
    }
    if (this.options.logY && y <= 0)
      throw new Error(
        `LiveLineChart.push: the point (${x}, ${y}) of line '${name}' has y <= 0, which the logarithmic y axis cannot show; expected y > 0`,
      );
    line.x.push(x);
    line.y.push(y);
    this.plot.update(this.figure());
  }

  /** Draw the final state (call after the loop). */
  done(): void {
    this.plot.update(this.figure());
    this.plot.flush();
  }

  /** The points so far, per line. */
  get points(): Record<string, { x: number[]; y: number[] }> {
    return Object.fromEntries([...this.lines].map(([k, v]) => [k, { x: [...v.x], y: [...v.y] }]));
  }

  /** How many times the chart was sent to the notebook. */
  get draws(): number {
    return this.plot.draws;
  }

  figure(): Figure {
    return lineFigure(
      [...this.lines].map(([name, l]) => ({ name, x: l.x, y: l.y })),
      { ...this.options, markers: false },
      "LiveLineChart",
      true,
    );
  }
}
