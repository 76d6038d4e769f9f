/* host/util: strict JSON, writing a file whole, judging text from outside. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bantrail/error.h"
#include "check.h"
#include "util/file.h"
#include "util/json.h"
#include "util/utf8.h"

static json_object *parse(const char *s, int depth, bt_err *err)
{
    json_object *o = NULL;
    *err = bt_json_parse(s, strlen(s), depth, &o);
    return o;
}

TEST(json_one_whole_value_is_parsed)
{
    static const char *const good[] = {"{\"a\": [1, \"\xC3\xA9\"]}", "\"\\\\u0000\"", "\"\\u0041 \\\" '\"", " [true] "};
    bt_err err;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        json_object *o = parse(good[i], 8, &err);
        CHECK(err == BT_OK && o != NULL);
        json_object_put(o);
    }
}

TEST(json_trailing_bytes_nul_bad_utf8_depth_and_lax_syntax_are_refused)
{
    static const char *const bad[] = {
        "{} {}", "{}x", "", "{'a': 1}", "['a']", "[1,]", "[[[[1]]]]",
        "\"\xC3\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF5\x80\x80\x80\"", /* cut, overlong, surrogate, too high */
        "\"a\x01b\"", "\"a\tb\"", "\"hello\\u0000\"",                                  /* raw controls, escaped NUL */
        "\"\\x\"", "\"\\u12g4\"", "\"\\U0041\"", "\"\\u00\"", "\"\\",                 /* escapes json-c refuses */
    };
    bt_err err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_object *o = parse(bad[i], 3, &err);
        CHECK(err == BT_ERR_BAD_JSON && o == NULL);
    }
    json_object *o = NULL;
    CHECK(bt_json_parse("{}\0{}", 5, 8, &o) == BT_ERR_BAD_JSON && o == NULL);
}

TEST(json_lean_parse_leaves_out_only_the_outer_members_string_and_answers_as_the_whole_parse)
{
    static const char head[] = "{\"type\":\"notice\", \"text\" : \"We \\\"suspended\\\" you \\u00e9 \xC3\xA9 \\/\","
                               "\"of\":3,\"c\":{\"text\":\"kept\"},\"l\":[\"text\",\"x\"],\"text\":\"again\"}";
    json_object *o = NULL, *c = NULL, *l = NULL;
    CHECK_EQ(bt_json_parse_lean(head, strlen(head), 8, "text", &o), BT_OK);
    CHECK(o != NULL && !strcmp(bt_json_str(o, "text"), "") && bt_json_int_or(o, "of", 0) == 3);
    CHECK(json_object_object_get_ex(o, "c", &c) && !strcmp(bt_json_str(c, "text"), "kept")); /* not outermost */
    CHECK(json_object_object_get_ex(o, "l", &l) && !strcmp(json_object_get_string(json_object_array_get_idx(l, 0)),
                                                             "text"));                      /* a value, not a name */
    json_object_put(o);
    CHECK_EQ(bt_json_parse(head, strlen(head), 8, &o), BT_OK); /* the whole parse has it */
    CHECK(!strcmp(bt_json_str(o, "text"), "again"));
    json_object_put(o);
    static const char *const kept[] = {"{\"text\":5}", "[\"text\",\"a\"]", "[{\"text\":\"a\"}]", "{\"texts\":\"a\"}"};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) { /* nothing left out: the same value */
        json_object *a = NULL, *b = NULL;
        CHECK_EQ(bt_json_parse_lean(kept[i], strlen(kept[i]), 8, "text", &a), BT_OK);
        CHECK_EQ(bt_json_parse(kept[i], strlen(kept[i]), 8, &b), BT_OK);
        CHECK(json_object_equal(a, b));
        json_object_put(a);
        json_object_put(b);
    }
    /* what the whole parse refuses inside the member left out, the lean one refuses too */
    static const char *const bad[] = {"{\"text\":\"\\x\"}", "{\"text\":\"\\u12g4\"}", "{\"text\":\"a\x01\"}",
                                      "{\"text\":\"\xC0\xAF\"}", "{\"text\":\"\\u0000\"}", "{\"text\":\"abc",
                                      "{\"text\":\"a\"", "{\"text\":\"a\"} x", "{\"text\":\"\xED\xA0\x80\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(bt_json_parse_lean(bad[i], strlen(bad[i]), 8, "text", &o) == BT_ERR_BAD_JSON && o == NULL);
        CHECK(bt_json_parse(bad[i], strlen(bad[i]), 8, &o) == BT_ERR_BAD_JSON && o == NULL);
    }
}

/* "[x,x,...]" with n copies of item (no commas inside it). */
static char *repeated(const char *item, size_t n)
{
    size_t il = strlen(item), len = 2 + n * (il + 1);
    char *s = malloc(len + 1), *p = s;
    if (s == NULL) abort();
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i) *p++ = ',';
        memcpy(p, item, il);
        p += il;
    }
    *p++ = ']';
    *p = '\0';
    return s;
}

TEST(json_with_too_many_objects_or_values_is_refused_before_parsing)
{
    bt_err err;
    struct { const char *item; size_t n; bt_err want; } cases[] = {
        {"{}", BT_JSON_CONTAINERS_MAX - 1, BT_OK},          /* with the array: exactly the most */
        {"{}", BT_JSON_CONTAINERS_MAX, BT_ERR_BAD_JSON},
        {"[]", BT_JSON_CONTAINERS_MAX, BT_ERR_BAD_JSON},
        {"1", BT_JSON_VALUES_MAX, BT_OK},
        {"1", BT_JSON_VALUES_MAX + 1, BT_ERR_BAD_JSON},
        {"\"{[,]}\"", BT_JSON_VALUES_MAX, BT_OK},             /* inside strings they are text */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *s = repeated(cases[i].item, cases[i].n);
        json_object *o = parse(s, 8, &err);
        CHECK_EQ(err, cases[i].want);
        CHECK((o != NULL) == (cases[i].want == BT_OK));
        json_object_put(o);
        free(s);
    }
}

TEST(json_getters_take_only_their_type)
{
    bt_err err;
    json_object *o = parse("{\"s\": \"x\", \"i\": 7, \"f\": 1.5}", 4, &err);
    int64_t v = -1;
    CHECK(strcmp(bt_json_str(o, "s"), "x") == 0);
    CHECK(bt_json_str(o, "i") == NULL && bt_json_str(NULL, "s") == NULL);
    CHECK(bt_json_int(o, "i", &v) == 1 && v == 7);
    CHECK(bt_json_int(o, "f", &v) == 0 && bt_json_int(o, "s", &v) == 0 && v == 7);
    CHECK(bt_json_int_or(o, "missing", 42) == 42 && bt_json_int_or(o, "i", 42) == 7);
    json_object_put(o);
}

/* dir/name, in one of two buffers (so that two can be used at once). */
static char *in_dir(const char *dir, const char *name)
{
    static char path[2][256];
    static int which;
    which = !which;
    snprintf(path[which], sizeof path[which], "%s/%s", dir, name);
    return path[which];
}

static int file_is(const char *path, const char *want, mode_t mode)
{
    char buf[64] = {0};
    struct stat sb;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n == (ssize_t)strlen(want) && strcmp(buf, want) == 0 && stat(path, &sb) == 0 &&
           (sb.st_mode & 0777) == mode;
}

TEST(file_new_is_written_with_its_mode_and_an_existing_path_is_refused)
{
    char *d = test_tmpdir(), *p = in_dir(d, "new");
    CHECK(bt_file_write(p, "one", 3, 0640, BT_FILE_NEW) == 0);
    CHECK(file_is(p, "one", 0640));
    errno = 0;
    CHECK(bt_file_write(p, "two", 3, 0600, BT_FILE_NEW) == -1 && errno == EEXIST);
    CHECK(file_is(p, "one", 0640));
    free(d);
}

TEST(file_replace_swaps_a_file_or_a_link_whole_never_following_the_link)
{
    char *d = test_tmpdir(), *p = in_dir(d, "replace");
    CHECK(bt_file_write(p, "old", 3, 0600, BT_FILE_REPLACE) == 0);
    CHECK(bt_file_write(p, "newer", 5, 0600, BT_FILE_REPLACE) == 0);
    CHECK(file_is(p, "newer", 0600));
    CHECK(access(in_dir(d, "replace.tmp"), F_OK) != 0);
    char target[256];
    snprintf(target, sizeof target, "%s", in_dir(d, "target"));
    CHECK(bt_file_write(target, "kept", 4, 0600, BT_FILE_NEW) == 0);
    CHECK(symlink(target, in_dir(d, "link")) == 0);
    CHECK(bt_file_write(in_dir(d, "link"), "evil", 4, 0600, BT_FILE_NEW) == -1);
    CHECK(bt_file_write(in_dir(d, "link"), "fresh", 5, 0600, BT_FILE_REPLACE) == 0);
    struct stat sb;
    CHECK(lstat(in_dir(d, "link"), &sb) == 0 && S_ISREG(sb.st_mode));
    CHECK(file_is(in_dir(d, "link"), "fresh", 0600));
    CHECK(file_is(target, "kept", 0600));
    CHECK(mkdir(in_dir(d, "folder"), 0700) == 0);
    errno = 0;
    CHECK(bt_file_write(in_dir(d, "folder"), "x", 1, 0600, BT_FILE_REPLACE) == -1 && errno == EEXIST);
    free(d);
}

static bt_utf8_class class_of(const char *s, size_t *len)
{
    return bt_utf8_next((const unsigned char *)s, len);
}

TEST(utf8_text_controls_and_bad_sequences_are_told_apart)
{
    size_t n;
    CHECK(class_of("a", &n) == BT_UTF8_TEXT && n == 1);
    CHECK(class_of("\xC3\xA9", &n) == BT_UTF8_TEXT && n == 2);        /* é */
    CHECK(class_of("\xF0\x9F\x98\x80", &n) == BT_UTF8_TEXT && n == 4); /* an emoji */
    CHECK(class_of("\n", &n) == BT_UTF8_CONTROL && n == 1);
    CHECK(class_of("\x1B[2J", &n) == BT_UTF8_CONTROL && n == 1);      /* ESC */
    CHECK(class_of("\xC2\x9B", &n) == BT_UTF8_CONTROL && n == 2);      /* C1 CSI */
    CHECK(class_of("\xE2\x80\xAE", &n) == BT_UTF8_BAD && n == 3);      /* right-to-left override */
    CHECK(class_of("\xE2\x81\xA6", &n) == BT_UTF8_BAD && n == 3);      /* left-to-right isolate */
    CHECK(class_of("\xC0\xAF", &n) == BT_UTF8_BAD && n == 1);          /* overlong "/" */
    CHECK(class_of("\xED\xA0\x80", &n) == BT_UTF8_BAD && n == 1);      /* a surrogate */
    CHECK(class_of("\xF5\x80\x80\x80", &n) == BT_UTF8_BAD && n == 1);  /* past U+10FFFF */
    CHECK(class_of("\xE2\x82", &n) == BT_UTF8_BAD && n == 1);          /* cut short by the end */
}

TEST(a_full_disk_has_its_own_code_and_other_failures_stay_storage)
{
    CHECK_EQ(bt_err_from_errno(ENOSPC), BT_ERR_DISK_FULL);
    CHECK_EQ(bt_err_from_errno(EFBIG), BT_ERR_DISK_FULL);  /* past the size a file may have */
    CHECK_EQ(bt_err_from_errno(EDQUOT), BT_ERR_DISK_FULL);
    CHECK_EQ(bt_err_from_errno(EIO), BT_ERR_STORAGE);      /* not a full disk */
    CHECK_EQ(bt_err_from_errno(EACCES), BT_ERR_STORAGE);
    CHECK_EQ(bt_err_from_errno(ENOMEM), BT_ERR_NO_MEMORY);
    CHECK(strcmp(bt_err_code(BT_ERR_DISK_FULL), "disk_full") == 0);
    CHECK_EQ(bt_err_from_code("disk_full"), BT_ERR_DISK_FULL);
    CHECK(strstr(bt_err_message(BT_ERR_DISK_FULL), "nothing already stored was lost") != NULL);
    for (int e = 0; e < BT_ERR_COUNT_; e++) /* one code each: one-to-one */
        CHECK_EQ(bt_err_from_code(bt_err_code((bt_err)e)), (bt_err)e);
}

RUN_TESTS(T(a_full_disk_has_its_own_code_and_other_failures_stay_storage), T(json_one_whole_value_is_parsed),
          T(json_trailing_bytes_nul_bad_utf8_depth_and_lax_syntax_are_refused),
          T(json_lean_parse_leaves_out_only_the_outer_members_string_and_answers_as_the_whole_parse),
          T(json_getters_take_only_their_type), T(json_with_too_many_objects_or_values_is_refused_before_parsing),
          T(file_new_is_written_with_its_mode_and_an_existing_path_is_refused),
          T(file_replace_swaps_a_file_or_a_link_whole_never_following_the_link),
          T(utf8_text_controls_and_bad_sequences_are_told_apart))
