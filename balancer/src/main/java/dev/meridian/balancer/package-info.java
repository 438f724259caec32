/**
 * Backends, groups and the strategies that pick one backend for a request. Plain Java with no Netty
 * dependency (the build enforces it), so every strategy is tested and benchmarked alone. Selectors
 * read health through {@link dev.meridian.balancer.HealthView} and never learn why a backend is out.
 */
package dev.meridian.balancer;
