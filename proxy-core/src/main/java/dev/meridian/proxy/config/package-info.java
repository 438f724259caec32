/**
 * Reads and validates Meridian's HOCON configuration. {@link dev.meridian.proxy.config.SettingsLoader}
 * parses a file, lays it over the defaults in {@code reference.conf}, checks every key (unknown keys,
 * types, ranges, references between sections) and either returns a complete
 * {@link dev.meridian.proxy.config.MeridianSettings} or throws an
 * {@link dev.meridian.proxy.config.InvalidConfigException} listing every problem as
 * {@code file: line: key: message (expected: ...)}.
 */
package dev.meridian.proxy.config;
