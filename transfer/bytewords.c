/* bytewords.c - Bytewords (BCR-2020-012): 256 four-letter words, unique by first+last letter. */
#include "offca/ur.h"
#include "offca/util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char WORDS[] =
	"ableacidalsoapexaquaarchatomauntawayaxisbackbaldbarnbeltbetabiasbluebodybragbrewbulbbuzz"
	"calmcashcatschefcityclawcodecolacookcostcruxcurlcuspcyandarkdatadaysdelidicedietdoordown"
	"drawdropdrumdulldutyeacheasyechoedgeepicevenexamexiteyesfactfairfernfigsfilmfishfizzflap"
	"flewfluxfoxyfreefrogfuelfundgalagamegeargemsgiftgirlglowgoodgraygrimgurugushgyrohalfhang"
	"hardhawkheathelphighhillholyhopehornhutsicedideaidleinchinkyintoirisironitemjadejazzjoin"
	"joltjowljudojugsjumpjunkjurykeepkenokeptkeyskickkilnkingkitekiwiknoblamblavalazyleaflegs"
	"liarlimplionlistlogoloudloveluaulucklungmainmanymathmazememomenumeowmildmintmissmonknail"
	"navyneednewsnextnoonnotenumbobeyoboeomitonyxopenovalowlspaidpartpeckplaypluspoempoolpose"
	"puffpumapurrquadquizraceramprealredorichroadrockroofrubyruinrunsrustsafesagascarsetssilk"
	"skewslotsoapsolosongstubsurfswantacotasktaxitenttiedtimetinytoiltombtoystriptunatwinugly"
	"undouniturgeuservastveryvetovialvibeviewvisavoidvowswallwandwarmwaspwavewaxywebswhatwhen"
	"whizwolfworkyankyawnyellyogayurtzapszerozestzinczonezoom";

static short table[26 * 26];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	for (int i = 0; i < 26 * 26; i++)
		table[i] = -1;
	for (int i = 0; i < 256; i++)
		table[(WORDS[i * 4] - 'a') * 26 + (WORDS[i * 4 + 3] - 'a')] = (short)i;
}

/* byte for (first letter, last letter), -1 where no word starts and ends so */
static int lookup(int first, int last)
{
	pthread_once(&table_once, table_init);
	if (first < 'a' || first > 'z' || last < 'a' || last > 'z')
		return -1;
	return table[(first - 'a') * 26 + (last - 'a')];
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

offca_rc xfr_bytewords_encode(xfr_bw_style style, const unsigned char *p, size_t len, char **out)
{
	unsigned char crc[4];
	uint32_t c;
	size_t n, per, pos = 0;
	char *s;

	*out = NULL;
	if (len > XFR_UR_MAX_MESSAGE)
		return ut_err(OFFCA_E_TOO_BIG, "bytewords: %zu bytes is more than the maximum", len);
	c = xfr_crc32(p, len);
	crc[0] = (unsigned char)(c >> 24);
	crc[1] = (unsigned char)(c >> 16);
	crc[2] = (unsigned char)(c >> 8);
	crc[3] = (unsigned char)c;
	n = len + 4;
	per = style == XFR_BW_MINIMAL ? 2 : 5;
	s = malloc(n * per + 1);
	if (s == NULL)
		return ut_err(OFFCA_E_NOMEM, "bytewords: out of memory");
	for (size_t i = 0; i < n; i++) {
		unsigned b = i < len ? p[i] : crc[i - len];
		const char *w = WORDS + b * 4;

		if (style == XFR_BW_MINIMAL) {
			s[pos++] = w[0];
			s[pos++] = w[3];
			continue;
		}
		if (i > 0)
			s[pos++] = style == XFR_BW_URI ? '-' : ' ';
		memcpy(s + pos, w, 4);
		pos += 4;
	}
	s[pos] = '\0';
	*out = s;
	return OFFCA_OK;
}

/* One word at s (2 or 4 letters) -> byte, or -1. */
static int decode_word(const char *s, size_t wl)
{
	int first = lower((unsigned char)s[0]), last = lower((unsigned char)s[wl - 1]);
	int v = lookup(first, last);

	if (v < 0)
		return -1;
	if (wl == 4 && (lower((unsigned char)s[1]) != WORDS[v * 4 + 1] ||
			lower((unsigned char)s[2]) != WORDS[v * 4 + 2]))
		return -1;
	return v;
}

offca_rc xfr_bytewords_decode(xfr_bw_style style, const char *s, size_t slen, unsigned char **out,
			      size_t *outlen)
{
	offca_rc rc = OFFCA_E_PARSE;
	size_t wl = style == XFR_BW_MINIMAL ? 2 : 4, step = style == XFR_BW_MINIMAL ? 2 : 5;
	size_t n, i;
	unsigned char *b = NULL;
	uint32_t want;

	*out = NULL;
	*outlen = 0;
	if (slen > 2 * (size_t)XFR_UR_MAX_MESSAGE + 64) {
		rc = ut_err(OFFCA_E_TOO_BIG, "bytewords: text of %zu characters is too long", slen);
		goto out;
	}
	if (style == XFR_BW_MINIMAL ? slen % 2 != 0 : (slen + 1) % 5 != 0) {
		rc = ut_err(OFFCA_E_PARSE, "bytewords: text length %zu is not a whole number of words", slen);
		goto out;
	}
	n = (slen + (step - wl)) / step;
	if (n < 5) {
		rc = ut_err(OFFCA_E_PARSE, "bytewords: too short (%zu words, at least 5 needed)", n);
		goto out;
	}
	b = malloc(n);
	if (b == NULL) {
		rc = ut_err(OFFCA_E_NOMEM, "bytewords: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const char *w = s + i * step;
		int v;

		if (style != XFR_BW_MINIMAL && i > 0 && w[-1] != (style == XFR_BW_URI ? '-' : ' ')) {
			rc = ut_err(OFFCA_E_PARSE, "bytewords: bad separator after word %zu", i);
			goto out;
		}
		v = decode_word(w, wl);
		if (v < 0) {
			rc = ut_err(OFFCA_E_PARSE, "bytewords: '%.*s' (word %zu) is not a byteword", (int)wl, w, i + 1);
			goto out;
		}
		b[i] = (unsigned char)v;
	}
	want = ((uint32_t)b[n - 4] << 24) | ((uint32_t)b[n - 3] << 16) | ((uint32_t)b[n - 2] << 8) | b[n - 1];
	if (xfr_crc32(b, n - 4) != want) {
		rc = ut_err(OFFCA_E_PARSE, "bytewords: checksum mismatch (damaged or truncated frame)");
		goto out;
	}
	*out = b;
	*outlen = n - 4;
	b = NULL;
	rc = OFFCA_OK;
out:
	free(b);
	return rc;
}
