"""Draws the demo's recorded KPI history as a dashboard shows it: one panel per headline KPI,
a line per segment by month, the band edges as dashed reference lines. It reads the BI views
(kpi_recorded_bi, kpi_recorded_band_edges) like any BI tool. With --control-out, it also
draws the escalation rate's control chart per channel beside it (kpi_control_chart: each
month against the centre and 3-sigma limits of the months before it, a point that fires a
Western Electric rule in red).

usage: chart.py --dbname demo --out kpi_history.png [--data plotted.json]
                [--control-out control_chart.png [--control-data control.json]]
(connection settings from the PG* environment variables; --data and --control-data write
the plotted points)"""

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import psycopg  # noqa: E402

KPIS = ["incident_rate", "contact_rate", "escalation_rate", "interaction_rate"]

SERIES = """
SELECT kpi, title, unit, dimension_value AS segment, "time", value
FROM kpi_recorded_bi
WHERE tracking = %s AND kpi = ANY(%s) AND dimension = 'segment' AND value IS NOT NULL
ORDER BY kpi, segment, "time"
"""
EDGES = """
SELECT DISTINCT kpi, edge, band_below, band_above FROM kpi_recorded_band_edges
WHERE kpi = ANY(%s) ORDER BY kpi, edge
"""


def read(conn, tracking):
    series = {}
    titles = {}
    for kpi, title, unit, segment, t, value in conn.execute(SERIES, [tracking, KPIS]):
        titles[kpi] = f"{title} ({unit})"
        series.setdefault(kpi, {}).setdefault(segment, []).append((t.strftime("%Y-%m"), value))
    edges = {}
    for kpi, edge, below, above in conn.execute(EDGES, [KPIS]):
        edges.setdefault(kpi, []).append((edge, below, above))
    return series, edges, titles


def draw(series, edges, titles, out):
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), constrained_layout=True)
    for ax, kpi in zip(axes.flat, KPIS):
        for segment, points in sorted(series.get(kpi, {}).items()):
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=segment)
        for edge, below, above in edges.get(kpi, []):
            ax.axhline(edge, linestyle="--", color="grey", linewidth=1)
            ax.annotate(f"{below} | {above}", (0, edge), xycoords=("axes fraction", "data"),
                        textcoords="offset points", xytext=(4, 3), fontsize=8, color="dimgrey")
        ax.set_title(titles.get(kpi, kpi), fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("support_kpi: recorded monthly KPIs per segment, with band edges")
    fig.savefig(out, dpi=100)


CONTROL = """
SELECT dimension_value AS channel, to_char("time", 'YYYY-MM') AS month, value, centre, lower_limit, upper_limit,
       rules_fired
FROM kpi_control_chart
WHERE tracking = %s AND kpi = 'escalation_rate' AND dimension = 'channel'
ORDER BY channel, "time"
"""


def read_control(conn, tracking):
    charts = {}
    for channel, month, value, centre, lower, upper, rules in conn.execute(CONTROL, [tracking]):
        charts.setdefault(channel, []).append((month, value, centre, lower, upper, rules))
    return charts


def draw_control(charts, out):
    fig, axes = plt.subplots(1, len(charts), figsize=(5 * len(charts), 4.2), constrained_layout=True, squeeze=False)
    for ax, (channel, points) in zip(axes.flat, sorted(charts.items())):
        months = [p[0] for p in points]
        ax.plot(months, [p[1] for p in points], marker="o", color="tab:blue", label="escalation rate")
        limited = [p for p in points if p[2] is not None]
        if limited:
            ax.step([p[0] for p in limited], [p[2] for p in limited], where="mid", color="grey", label="centre")
            ax.step([p[0] for p in limited], [max(p[3], 0) for p in limited], where="mid", color="tab:red",
                    linestyle="--", label="3-sigma limits")
            ax.step([p[0] for p in limited], [p[4] for p in limited], where="mid", color="tab:red", linestyle="--")
        fired = [p for p in points if p[5]]
        if fired:
            ax.scatter([p[0] for p in fired], [p[1] for p in fired], color="tab:red", zorder=3, s=60,
                       label="rule fired")
        ax.set_title(f"escalation rate, {channel} (p-chart, %)", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("support_kpi: control charts of the recorded escalation rate (kpi_control_chart)")
    fig.savefig(out, dpi=100)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dbname", default="demo")
    parser.add_argument("--tracking", default="demo_monthly")
    parser.add_argument("--out", required=True)
    parser.add_argument("--data", help="also write the plotted points and edges as JSON")
    parser.add_argument("--control-out", help="also draw the escalation rate's control charts here")
    parser.add_argument("--control-data", help="and write their points as JSON")
    args = parser.parse_args()
    with psycopg.connect(dbname=args.dbname) as conn:
        series, edges, titles = read(conn, args.tracking)
        charts = read_control(conn, args.tracking) if args.control_out else {}
    if not series:
        raise SystemExit(f"no recorded history for tracking {args.tracking!r}: run demo/history.sql first")
    draw(series, edges, titles, args.out)
    if args.data:
        with open(args.data, "w") as f:
            json.dump({"series": series, "edges": edges}, f, default=float, indent=1)
    print(f"wrote {args.out}: {sum(len(s) for s in series.values())} lines in {len(series)} panels")
    if args.control_out:
        if not charts:
            raise SystemExit(f"no control chart for tracking {args.tracking!r}")
        draw_control(charts, args.control_out)
        if args.control_data:
            with open(args.control_data, "w") as f:
                json.dump(charts, f, default=float, indent=1)
        print(f"wrote {args.control_out}: {len(charts)} control charts")


if __name__ == "__main__":
    main()
