/**
 * Failover drills: {@code meridian drill} rehearses a region failure against a running Meridian
 * through its admin API. It records a baseline, applies an action to one region (dial it down, eject
 * it, or inject a delay or an abort), holds, restores, and watches traffic fail back, measuring what
 * clients saw: with {@code --target} from its own open-loop load ({@link dev.meridian.proxy.drill.LoadGenerator}),
 * else from the per-region counters the admin API exposes. {@link dev.meridian.proxy.drill.Drill} runs
 * the phases; {@link dev.meridian.proxy.drill.DrillReport} writes the table, Markdown, JSON and the PNG
 * timeline ({@link dev.meridian.proxy.drill.TimelineChart}); {@link dev.meridian.proxy.drill.SloSpec}
 * decides the exit status.
 */
package dev.meridian.proxy.drill;
