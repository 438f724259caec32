/**
 * Backend health. The {@link dev.meridian.health.HealthRegistry} holds every backend's marks (one per
 * owner: {@code active-check}, {@code outlier}, {@code operator}) and replication lag, and is the
 * {@link dev.meridian.balancer.HealthView} selectors read ({@code readView(maxLag)} for reads). Per
 * backend group, an {@link dev.meridian.health.ActiveHealthChecker} probes backends on the proxy's
 * event loops, an {@link dev.meridian.health.OutlierDetector} ejects backends from what real traffic
 * saw, and a {@link dev.meridian.health.SlowStart} ramps returning backends' share up. Settings come
 * as {@link dev.meridian.health.ActiveCheckSettings} and {@link dev.meridian.health.PassiveSettings},
 * whose javadoc states every default.
 */
package dev.meridian.health;
