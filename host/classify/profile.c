/* bt_classify_profile FILE.jsonl...: classifies the text of every entry of
 * the corpus files once. Built against an instrumented copy of the
 * classifier, it records where the classifier spends its time on real
 * wordings; the default build then compiles the classifier with that
 * profile (CMakeLists.txt, README "Performance"). Exit 0, or 1 with the
 * file and line of an entry it cannot classify. */
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "bantrail/classify.h"
#include "util/json.h"

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
            const char *text = bt_json_str(o, "text");
            bt_classification c;
            if (text == NULL || bt_classify_text(&c, bt_json_str(o, "url"), bt_json_str(o, "title"),
                                                 bt_json_str(o, "lang"), text) != BT_OK) {
                fprintf(stderr, "%s:%zu: no text to classify, or the classifier failed on it\n", argv[f], n);
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
