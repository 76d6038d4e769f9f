/* A small test harness: each test is a function named for the behaviour it
 * checks; CHECK records a failure with its line and goes on. main() runs
 * them all and prints "N passed, N failed". */
#ifndef BT_TEST_CHECK_H
#define BT_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>

static int check_failed_;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
            check_failed_ = 1;                                                   \
        }                                                                        \
    } while (0)

#define CHECK_EQ(a, b) CHECK((a) == (b))

typedef struct {
    const char *name;
    void (*fn)(void);
} test_case;

#define TEST(name) static void name(void)
#define T(name) {#name, name}

static inline int run_tests(const test_case *tests, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        check_failed_ = 0;
        tests[i].fn();
        printf("%s %s\n", check_failed_ ? "FAIL" : "ok  ", tests[i].name);
        if (check_failed_) failed++;
        else passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#define RUN_TESTS(...)                                                           \
    int main(void)                                                               \
    {                                                                            \
        static const test_case tests_[] = {__VA_ARGS__};                         \
        return run_tests(tests_, sizeof tests_ / sizeof tests_[0]);              \
    }

static inline int rm_one_(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static char tmpdirs_[128][32];
static int ntmpdirs_;

static inline void rm_tmpdirs_(void)
{
    for (int i = 0; i < ntmpdirs_; i++) nftw(tmpdirs_[i], rm_one_, 16, FTW_DEPTH | FTW_PHYS);
}

/* The bytes of the file at path, NUL-terminated, their number in *n; an
 * empty buffer when there is no such file. The caller frees it. */
static inline char *test_file_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (f == NULL) return calloc(1, 1);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, len > 0 ? (size_t)len + 1 : 1);
    if (b == NULL) abort();
    if (len > 0) *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

/* A fresh, empty folder under /tmp for one test, removed at exit; the caller
 * frees the path. */
static inline char *test_tmpdir(void)
{
    char *dir = strdup("/tmp/bt-test-XXXXXX");
    if (dir == NULL || mkdtemp(dir) == NULL || ntmpdirs_ == 128) abort();
    if (ntmpdirs_ == 0) atexit(rm_tmpdirs_);
    strcpy(tmpdirs_[ntmpdirs_++], dir);
    return dir;
}

#endif
