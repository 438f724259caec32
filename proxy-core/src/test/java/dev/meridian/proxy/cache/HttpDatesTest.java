package dev.meridian.proxy.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HttpDatesTest {
  private static final long NOV_6_1994 = Instant.parse("1994-11-06T08:49:37Z").toEpochMilli();

  @ParameterizedTest
  @ValueSource(strings = {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
      "SUN, 06 NOV 1994 08:49:37 gmt"})
  void readsTheThreeFormatsRfc9110Names(String date) {
    assertThat(HttpDates.parse(date, 2026)).isEqualTo(NOV_6_1994);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "0", "-1", "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC",
      "Sun 06 Nov 1994 08:49:37 GMT", "Sun, 06-Nov-1994 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
      "Sun,  06 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT",
      "Sun, 06 Nov 1994 08.49.37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT+1"})
  void anythingElseIsInvalid(String date) {
    assertThat(HttpDates.parse(date, 2026)).isEqualTo(HttpDates.INVALID);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"Sunday, 06-Nov-94 08:49:37 GMT | 2026 | 1994",
      "Friday, 06-Nov-76 08:49:37 GMT | 2026 | 2076", "Sunday, 06-Nov-77 08:49:37 GMT | 2026 | 1977"})
  void anRfc850YearIsTheLatestNotMoreThanFiftyYearsAhead(String date, int now, int year) {
    long millis = HttpDates.parse(date, now);
    assertThat(Instant.ofEpochMilli(millis).toString()).startsWith(year + "-11-06");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {"7200, 0 | 7200", "0, 7200 | 0", "abc | 0", "-5 | 0", " 60 | 60"})
  void theFirstMemberOfAnAgeListCounts(String age, long seconds) {
    assertThat(Freshness.age(age)).isEqualTo(seconds);
  }
}
