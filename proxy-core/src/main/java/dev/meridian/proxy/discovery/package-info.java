/**
 * Dynamic backends: backends a group finds at run time rather than reads from the configuration. A
 * {@link dev.meridian.proxy.discovery.BackendSource} finds them (DNS A/AAAA, DNS SRV, a JSON or HOCON
 * file, a Kubernetes Service's EndpointSlices) and reports each complete list; a {@link dev.meridian.proxy.discovery.GroupDiscovery} merges
 * a group's sources with its written backends, keeping each source's last good list when it fails;
 * {@link dev.meridian.proxy.discovery.BackendDiscovery} starts and stops the sources of every group
 * as configurations come and go, and tells the server when a group's list changed so it rebuilds the
 * group through the same path a reload takes.
 *
 * <p>A new kind of source is one
 * {@link dev.meridian.proxy.config.BackendSourceSettings} variant read from the configuration, one
 * {@code BackendSource} implementation, and one case in {@link dev.meridian.proxy.discovery.BackendSources}.
 */
package dev.meridian.proxy.discovery;
