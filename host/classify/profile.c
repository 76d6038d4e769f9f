/* bt_classify_profile FILE.jsonl...: classifies the text of every entry of
 * the corpus files once. Built against an instrumented copy of the
 * classifier, it records where the classifier spends its time on real
 * wordings; the default build then compiles the classifier with that
 * profile (CMakeLists.txt, docs/RULES.md "Speed"). Exit 0, or 1 with the
 * file and line of an entry it cannot read. */
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "bantrail/classify.h"

static const char *member(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

int main(int argc, char **argv)
{
    size_t texts = 0;
    for (int f = 1; f < argc; f++) {
        FILE *in = fopen(argv[f], "r");
        if (in == NULL) {
            perror(argv[f]);
            return 1;
        }
        char *line = NULL;
        size_t cap = 0, n = 0;
        while (getline(&line, &cap, in) > 0) {
            n++;
            json_object *o = json_tokener_parse(line);
            const char *text = o != NULL ? member(o, "text") : NULL;
            bt_classification c;
            if (text == NULL || bt_classify_text(&c, member(o, "url"), member(o, "title"), member(o, "lang"),
                                                 text) != BT_OK) {
                fprintf(stderr, "%s:%zu: no text to classify\n", argv[f], n);
                json_object_put(o);
                free(line);
                fclose(in);
                return 1;
            }
            json_object_put(o);
            texts++;
        }
        free(line);
        fclose(in);
    }
    printf("%zu texts classified\n", texts);
    return 0;
}
