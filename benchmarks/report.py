"""The printed table of a benchmark run: one line per figure, its comparison and its target."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("ok" if ok else "MISS")


def _rows(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    add = rows.append
    web, server = doc.get("web"), doc.get("server")
    if web:
        add(("web", "generated pages (on/off-topic/copies)",
             f"{web['pages']} ({web['on_topic']}/{web['off_topic']}/{web['syndicated_copies']}), "
             f"{web['sites']} sites, {web['mean_page_kb']} KB/page", ""))
    if server:
        add(("web", "server req/s alone vs peak crawl demand",
             f"{_fmt(server['capacity_rps'])} vs {_fmt(server['peak_crawl_demand_rps'])}",
             f"{100 * (server['utilisation'] or 0):.1f}% of capacity"))
    b1 = doc.get("B1", {})
    for name, row in b1.get("crawlers", {}).items():
        if "skipped" in row or "error" in row:
            add(("B1", name, row.get("skipped") or row.get("error", ""), ""))
            continue
        cpu_target = b1.get("cpu_ms_per_page_target") if name == "digestcrawl" else None
        add(("B1", name, f"{_fmt(row['pages_per_s'])} pages/s, {_fmt(row['cpu_ms_per_page'])} ms CPU/page, "
                         f"{_fmt(row['cpu_s_per_stored'])} CPU-s/stored ({row['stored']}/{row['pages']}), "
                         f"{_fmt(row['peak_rss_mb'])} MB ×{row['processes']} (PSS {_fmt(row['peak_pss_mb'])})",
             f"exit {row['returncode']}" + (f"; CPU ≤ {cpu_target} ms/page "
                                            f"{_verdict((row['cpu_ms_per_page'] or 0) <= cpu_target)}"
                                            if cpu_target else "")))
        if name == "digestcrawl" and row.get("per_process"):
            add(("B1", "  digestcrawl CPU by process",
                 ", ".join(f"{role} {_fmt(figures.get('cpu_s'))} s" for role, figures in row["per_process"].items()),
                 ""))
    for key, value in b1.get("ratios", {}).items():
        target = b1.get("targets", {}).get(key)
        add(("B1", f"digestcrawl pages/s {key.replace('_', ' ')}", f"{_fmt(value)}×",
             f"≥ {target}× {_verdict(value >= target)}" if target else ""))
    for name, row in doc.get("B2", {}).items():
        if not isinstance(row, dict) or "ratio" not in row:
            add(("B2", name, str(row), ""))
            continue
        add(("B2", f"CPU/page, {name} pages ({row['pages']})",
             f"digestcrawl {_fmt(row['digestcrawl_ms'])} ms, trafilatura.extract {_fmt(row['trafilatura_ms'])} ms "
             f"(its fast precision mode alone {_fmt(row['trafilatura_first_pass_ms'])}), "
             f"lxml parse {_fmt(row['lxml_parse_ms'])} ms",
             f"{_fmt(row['ratio'])}× (≤ {row['target']}) {_verdict(row['ratio'] <= row['target'])}"))
        if row.get("stages_ms"):
            add(("B2", f"  digestcrawl stages, {name}",
                 ", ".join(f"{k} {_fmt(v)}" for k, v in row["stages_ms"].items()), "ms/page"))
        if row.get("fallback_rate"):
            add(("B2", f"  extract_page fallbacks, {name}",
                 ", ".join(f"{k} {v:.0%}" for k, v in row["fallback_rate"].items()), "of pages"))
    b3 = doc.get("B3", {})
    sizes = b3.get("sizes", [])
    for row in sizes:
        add(("B3", f"dedup index of {row['indexed']:,}",
             f"{_fmt(row['lookup_us'])} µs/check = {_fmt(row['lookups_per_s'])} checks/s; "
             f"{_fmt(row['bytes_per_article'])} B/article; signature of a new text {_fmt(row['signature_us'])} µs",
             f"≥ 20,000/s {_verdict(row['lookups_per_s'] >= 20_000)}"))
    if len(sizes) > 1:
        spread = max(r["lookup_us"] for r in sizes) / min(r["lookup_us"] for r in sizes)
        add(("B3", "check time max/min across sizes", f"{_fmt(spread)}×", f"≤ 1.3 {_verdict(spread <= 1.3)}"))
    if "error" in b3 or "skipped" in b3:
        add(("B3", "dedup", b3.get("error") or b3.get("skipped", ""), ""))
    b4 = doc.get("B4", {})
    if "calls" in b4:
        add(("B4", f"LLM calls for {b4['stories_summarized']} stories", _fmt(b4["calls"]),
             f"≤ {b4['calls_limit']} {_verdict(b4['calls'] <= b4['calls_limit'])}"))
        add(("B4", "LLM calls on unchanged re-run", _fmt(b4["rerun_calls"]), f"= 0 {_verdict(b4['rerun_calls'] == 0)}"))
        add(("B4", "prompt / completion tokens (server usage)",
             f"{_fmt(b4['prompt_tokens_usage'])} / {_fmt(b4['completion_tokens_usage'])}", ""))
        add(("B4", "prompt vs dedup source text (estimated tokens)",
             f"{_fmt(b4['prompt_tokens_estimate'])} vs {_fmt(b4['source_tokens_estimate'])} = "
             f"{_fmt(b4['prompt_over_source'])}×",
             f"≤ 1.3 {_verdict((b4['prompt_over_source'] or 0) <= 1.3)}"))
        add(("B4", "  prompt breakdown", ", ".join(f"{k} {v}" for k, v in b4["prompt_breakdown"].items()), "tokens"))
    elif b4:
        add(("B4", "LLM cost", b4.get("error") or b4.get("skipped", ""), ""))
    b5 = doc.get("B5", {})
    if "peak_rss_mb" in b5:
        add(("B5", f"peak RSS, {b5['pages']}-page crawl",
             f"{_fmt(b5['peak_rss_mb'])} MB (PSS {_fmt(b5['peak_pss_mb'])} MB), all processes summed",
             f"≤ {b5['target_mb']} MB {_verdict(b5['peak_rss_mb'] <= b5['target_mb'])}"))
        for role, row in b5.get("per_process", {}).items():
            add(("B5", f"  {role} (×{row['processes']})",
                 f"{_fmt(row['peak_rss_mb'])} MB (PSS {_fmt(row['peak_pss_mb'])} MB), the largest one", ""))
    elif b5:
        add(("B5", "memory", b5.get("error") or b5.get("skipped", ""), ""))
    b7 = doc.get("B7", {})
    if "seconds" in b7:
        add(("B7", f"offline digest of a {b7['articles']}-article day ({b7['stories']} stories)",
             f"{_fmt(b7['seconds'])} s{', page junk in the post' if b7['junk_in_post'] else ''}",
             f"< {_fmt(b7['target_s'])} s {_verdict(b7['seconds'] < b7['target_s'] and not b7['junk_in_post'])}"))
    elif b7:
        add(("B7", "offline digest time", b7.get("error") or b7.get("skipped", ""), ""))
    rows.extend(stories_rows(doc.get("B8", {})))
    b6 = doc.get("B6", {})
    if b6 and not (b6.keys() & {"error", "skipped"}):
        rows.extend(("B6", *row) for row in quality_rows(b6))
    elif b6:
        add(("B6", "extraction quality", b6.get("error") or b6.get("skipped", ""), ""))
    return rows


def stories_rows(b8: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """B8's rows: grouping F1 on the labelled pairs (all, then each subset with a target) and speed."""
    if not b8 or b8.keys() & {"error", "skipped"}:
        return [("B8", "story grouping", b8.get("error") or b8.get("skipped", ""), "")] if b8 else []
    rows: list[tuple[str, str, str, str]] = []
    pairs = b8.get("pairs", {})
    if "scores" in pairs:
        targets = pairs.get("targets", {})
        for name in ("all", *targets):
            row = pairs["scores"].get(name)
            if row:
                target = targets.get(name)
                rows.append(("B8", f"grouping F1, {name} ({row['pairs']} pairs, {row['same']} same)",
                             f"{row['f1']:.3f} (P {row['precision']:.3f} R {row['recall']:.3f})",
                             f"≥ {target} {_verdict(row['f1'] >= target)}" if target else ""))
    elif pairs:
        rows.append(("B8", "grouping F1 on labelled pairs", pairs.get("skipped", ""), ""))
    speed = b8.get("speed", {})
    if "seconds" in speed:
        ok = speed["seconds"] < speed["target_s"] and speed["every_article_once"]
        rows.append(("B8", f"grouping a {speed['articles']:,}-article day ({speed['stories']} stories)",
                     f"{_fmt(speed['seconds'])} s{'' if speed['every_article_once'] else ', articles lost'}",
                     f"< {_fmt(speed['target_s'])} s {_verdict(ok)}"))
    return rows


def _scores(system: dict[str, Any], body: str) -> str:
    if "skipped" in system:
        return system["skipped"]
    parts = [f"{body} {system['f1']:.3f} (P {system['precision']:.3f} R {system['recall']:.3f})"]
    if "accuracy" in system:
        parts.append(f"acc {system['accuracy']:.3f}")
    if system.get("empty"):
        parts.append(f"{system['empty']} empty")
    if system.get("dated"):
        parts.append(f"days {system['days_right']}/{system['dated']} = {system['exact_day']:.3f}")
    parts.append(f"{system['cpu_ms_per_page']} ms/page")
    return ", ".join(parts)


def quality_rows(b6: dict[str, Any]) -> list[tuple[str, str, str]]:
    """B6's rows (figure, value, target): each set, each system, from benchmarks/quality.py."""
    rows: list[tuple[str, str, str]] = []
    aeb, zh = b6.get("article-extraction-benchmark", {}), b6.get("zh-web-extraction-dev", {})
    if "systems" in aeb:
        for name, system in aeb["systems"].items():
            target = f"≥ 0.970 {_verdict(system['f1'] >= 0.970)}" if name == "digestcrawl" else ""
            rows.append((f"article benchmark ({aeb['documents']}): {name}", _scores(system, "F1"), target))
        best = sorted(aeb["published_peers"].items(), key=lambda kv: -kv[1]["f1"])[:4]
        rows.append(("  published peers re-scored (best 4)", ", ".join(f"{k} {v['f1']:.3f}" for k, v in best), ""))
        for name, system in aeb.get("days", {}).items():
            target = f"≥ 0.890 {_verdict((system['exact_day'] or 0) >= 0.890)}" if name == "digestcrawl" else ""
            rows.append((f"  days, dated-URL pages, URL hidden: {name}",
                         f"{system['days_right']}/{system['dated']} = {system['exact_day'] or 0:.3f}", target))
    elif aeb:
        rows.append(("article benchmark", aeb.get("skipped", ""), ""))
    if "systems" in zh:
        for name, system in zh["systems"].items():
            if name == "htmldate":
                rows.append((f"zh dev pages ({zh['documents']}): {name}",
                             f"days {system['days_right']}/{system['dated']} = {system['exact_day']:.3f}", ""))
                continue
            target = ""
            if name == "digestcrawl":
                target = (f"F1 ≥ 0.93 {_verdict(system['f1'] >= 0.93)}, "
                          f"days ≥ 0.85 {_verdict((system['exact_day'] or 0) >= 0.85)}")
            rows.append((f"zh dev pages ({zh['documents']}): {name}", _scores(system, "char F1"), target))
    elif zh:
        rows.append(("zh dev pages", zh.get("skipped", ""), ""))
    return rows


def format_table(doc: dict[str, Any]) -> str:
    machine = doc.get("machine", {})
    head = (f"digestcrawl benchmarks — {doc.get('mode')} mode, {doc.get('started')}, "
            f"{machine.get('nproc')} × {machine.get('cpu')}, {doc.get('wall_s')} s")
    rows = [("", "figure", "value", "target"), *_rows(doc)]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [head, ""]
    for i, row in enumerate(rows):
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}".rstrip())
        if i == 0:
            lines.append("-" * min(160, sum(widths) + 20))
    return "\n".join(lines)
