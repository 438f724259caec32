/** The admin listener: Prometheus metrics, JSON state of routes and backends, and a liveness check. */
package dev.meridian.proxy.admin;
