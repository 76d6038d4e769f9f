/* bt_rules_check FILE: parses a rules file as the classifier does and says
 * what is wrong with it, and on which line, so that a malformed rules file
 * or an unknown key stops the build (CMakeLists.txt) instead of the host;
 * and refuses one over RULES_MAX_BYTES (issue 11's bound: the extension's
 * background parses it at every start, the host carries it in its binary).
 * Exit 0 when the rules parse, 1 when they do not, 2 when FILE is unreadable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/classify.h"

#define RULES_MAX_BYTES 2000000

/* The line of the first place in text where the problem's quoted name (or,
 * without one, its place: what precedes ": ") appears as a JSON string; 0 if
 * nowhere. JSON syntax errors name their line already. */
static size_t problem_line(const char *text, const char *problem)
{
    char name[128];
    const char *q = strchr(problem, '"'), *colon = strstr(problem, ": ");
    size_t n;
    if (q != NULL && strchr(q + 1, '"') != NULL) {
        n = (size_t)(strchr(q + 1, '"') - q + 1);
    } else if (colon != NULL) {
        q = problem;
        n = (size_t)(colon - problem);
    } else {
        return 0;
    }
    if (n + 3 > sizeof name) return 0;
    if (q[0] == '"') snprintf(name, sizeof name, "%.*s", (int)n, q);
    else snprintf(name, sizeof name, "\"%.*s\"", (int)n, q);
    const char *at = strstr(text, name);
    if (at == NULL) return 0;
    size_t line = 1;
    for (const char *c = text; c < at; c++) line += *c == '\n';
    return line;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bt_rules_check RULES.json\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = 1 << 16, len = 0, got;
    char *text = malloc(cap);
    while (text != NULL && (got = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap && (text = realloc(text, cap *= 2)) == NULL) break;
    }
    fclose(f);
    if (text == NULL) return 2;
    text[len] = '\0';
    if (len > RULES_MAX_BYTES) {
        fprintf(stderr, "%s: %zu bytes, over the %d a rules file may weigh: trim the model (tests/corpus/corpus.c)\n",
                argv[1], len, RULES_MAX_BYTES);
        free(text);
        return 1;
    }
    bt_classify_rules *rules = NULL;
    char problem[256];
    bt_err rc = bt_classify_rules_parse(&rules, text, len, problem, sizeof problem);
    if (rc != BT_OK) {
        size_t line = strstr(problem, ", line ") ? 0 : problem_line(text, problem);
        if (line) fprintf(stderr, "%s:%zu: %s\n", argv[1], line, problem);
        else fprintf(stderr, "%s: %s\n", argv[1], problem);
    }
    bt_classify_rules_free(rules);
    free(text);
    return rc == BT_OK ? 0 : 1;
}
