package dev.meridian.proxy.http1;

import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map.Entry;
import java.util.Set;

/**
 * The parts of Netty's {@link HttpHeaders} that follow from a few core operations, for header views
 * that keep their fields their own way ({@link RawHeaders}): the typed getters, {@code set} as remove
 * then add, the {@code String} overloads, iteration and names over {@link #entries()}. A subclass
 * supplies lookup ({@code get}, {@code getAll}, {@code contains} by {@code CharSequence}), editing
 * ({@code add}, {@code remove} by {@code CharSequence}), {@code entries()} and {@code size()}.
 */
abstract class DerivedHttpHeaders extends HttpHeaders {
  @Override
  public String get(String name) {
    return get((CharSequence) name);
  }

  @Override
  public List<String> getAll(String name) {
    return getAll((CharSequence) name);
  }

  @Override
  public boolean contains(String name) {
    return contains((CharSequence) name);
  }

  @Override
  public Integer getInt(CharSequence name) {
    String value = get(name);
    try {
      return value == null ? null : Integer.valueOf(value.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public int getInt(CharSequence name, int defaultValue) {
    Integer value = getInt(name);
    return value == null ? defaultValue : value;
  }

  @Override
  public Short getShort(CharSequence name) {
    String value = get(name);
    try {
      return value == null ? null : Short.valueOf(value.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  @Override
  public short getShort(CharSequence name, short defaultValue) {
    Short value = getShort(name);
    return value == null ? defaultValue : value;
  }

  @Override
  public Long getTimeMillis(CharSequence name) {
    String value = get(name);
    Date date = value == null ? null : DateFormatter.parseHttpDate(value);
    return date == null ? null : date.getTime();
  }

  @Override
  public long getTimeMillis(CharSequence name, long defaultValue) {
    Long value = getTimeMillis(name);
    return value == null ? defaultValue : value;
  }

  @Override
  public Iterator<Entry<String, String>> iterator() {
    return entries().iterator();
  }

  @Override
  public Iterator<Entry<CharSequence, CharSequence>> iteratorCharSequence() {
    List<Entry<CharSequence, CharSequence>> entries = new ArrayList<>(size());
    for (Entry<String, String> entry : entries()) {
      entries.add(new SimpleImmutableEntry<>(entry.getKey(), entry.getValue()));
    }
    return entries.iterator();
  }

  @Override
  public boolean isEmpty() {
    return size() == 0;
  }

  @Override
  public Set<String> names() {
    Set<String> names = new LinkedHashSet<>();
    for (Entry<String, String> entry : entries()) {
      names.add(entry.getKey());
    }
    return names;
  }

  @Override
  public HttpHeaders add(String name, Object value) {
    return add((CharSequence) name, value);
  }

  @Override
  public HttpHeaders add(String name, Iterable<?> values) {
    for (Object value : values) {
      add(name, value);
    }
    return this;
  }

  @Override
  public HttpHeaders addInt(CharSequence name, int value) {
    return add(name, Integer.toString(value));
  }

  @Override
  public HttpHeaders addShort(CharSequence name, short value) {
    return add(name, Short.toString(value));
  }

  @Override
  public HttpHeaders set(String name, Object value) {
    return set((CharSequence) name, value);
  }

  @Override
  public HttpHeaders set(CharSequence name, Object value) {
    remove(name);
    return add(name, value);
  }

  @Override
  public HttpHeaders set(String name, Iterable<?> values) {
    remove(name);
    return add(name, values);
  }

  @Override
  public HttpHeaders setInt(CharSequence name, int value) {
    return set(name, Integer.toString(value));
  }

  @Override
  public HttpHeaders setShort(CharSequence name, short value) {
    return set(name, Short.toString(value));
  }

  @Override
  public HttpHeaders remove(String name) {
    return remove((CharSequence) name);
  }
}
