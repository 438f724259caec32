/**
 * Backend health: the registry that health checks, outlier detection and operators write and that
 * selectors read through {@link dev.meridian.balancer.HealthView}.
 */
package dev.meridian.health;
