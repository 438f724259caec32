package dev.meridian.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class RequestCookiesTest {

  /** The value {@link RequestCookies#find} points at, or null when it finds none. */
  private static String valueOf(String header, String name) {
    long range = RequestCookies.find(header, name);
    if (range == -1) {
      return null;
    }
    return header.substring(RequestCookies.start(range), RequestCookies.end(range));
  }

  @Test
  void findsACookieBetweenOthers() {
    String header = "a=1; mrd=xyz; b=2";

    long range = RequestCookies.find(header, "mrd");

    assertThat(RequestCookies.start(range)).isEqualTo(9);
    assertThat(RequestCookies.end(range)).isEqualTo(12);
    assertThat(valueOf(header, "mrd")).isEqualTo("xyz");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "mrd=xyz; a=1; b=2  | first",
      "a=1; b=2; mrd=xyz  | last",
      "mrd=xyz            | only",
      "a=1;mrd=xyz;b=2    | no spaces after the semicolons",
      "a=1;   mrd=xyz  ;b=2 | several spaces around the pair",
      "'a=1;\tmrd=xyz\t; b=2' | tabs around the pair",
      "'  mrd=xyz'        | leading spaces before the only cookie",
      "a=1; mrd=xyz;      | a trailing semicolon",
  })
  void findsTheCookieWhereverItStands(String header, String where) {
    assertThat(valueOf(header, "mrd")).as(where).isEqualTo("xyz");
  }

  @Test
  void aNameEndingInTheWantedNameIsNotIt() {
    assertThat(valueOf("xmrd=1; mrd=2", "mrd")).isEqualTo("2");
  }

  @Test
  void aNameStartingWithTheWantedNameIsNotIt() {
    assertThat(RequestCookies.find("mrdx=1", "mrd")).isEqualTo(-1);
    assertThat(valueOf("mrdx=1; mrd=2", "mrd")).isEqualTo("2");
  }

  @Test
  void aValueInsideAnotherCookieIsNotAName() {
    assertThat(valueOf("a=mrd=1; mrd=2", "mrd")).isEqualTo("2");
  }

  @Test
  void theFirstOfTwoCookiesWithTheNameWins() {
    assertThat(valueOf("mrd=first; mrd=second", "mrd")).isEqualTo("first");
  }

  @Test
  void leavesTheQuotesOfAQuotedValueOut() {
    String header = "a=1; mrd=\"xyz\"; b=2";

    long range = RequestCookies.find(header, "mrd");

    assertThat(RequestCookies.start(range)).isEqualTo(10);
    assertThat(RequestCookies.end(range)).isEqualTo(13);
    assertThat(valueOf(header, "mrd")).isEqualTo("xyz");
  }

  @Test
  void aLoneQuoteIsKeptAsTheValue() {
    assertThat(valueOf("mrd=\"", "mrd")).isEqualTo("\"");
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(strings = {"mrd=", "mrd=; a=1", "a=1; mrd=", "a=1; mrd=  ; b=2", "mrd=\"\""})
  void findsAnEmptyValueAsAnEmptyRange(String header) {
    long range = RequestCookies.find(header, "mrd");

    assertThat(range).isNotEqualTo(-1);
    assertThat(RequestCookies.end(range)).isEqualTo(RequestCookies.start(range));
  }

  @ParameterizedTest(name = "[{index}] \"{0}\"")
  @ValueSource(strings = {"a=1; b=2", "mrd", "mrd; a=1", "a=1; mr=2", "; ;", "", " ", "\t"})
  void answersMinusOneWhenTheCookieIsMissing(String header) {
    assertThat(RequestCookies.find(header, "mrd")).isEqualTo(-1);
  }
}
