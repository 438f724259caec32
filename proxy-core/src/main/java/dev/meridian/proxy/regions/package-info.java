/**
 * What the proxy knows and lets operators change per region of a backend group at run time: traffic
 * and error counters with a latency histogram per region ({@link dev.meridian.proxy.regions.RegionTraffic}),
 * injected faults for failover drills ({@link dev.meridian.proxy.regions.RegionFaults}), and the time
 * limits after which an operator's change undoes itself
 * ({@link dev.meridian.proxy.regions.OperatorOverrides}).
 */
package dev.meridian.proxy.regions;
