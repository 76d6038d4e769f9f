/* bantrail-collect: the union's side (DESIGN.md section 8). The receiver,
 * ingestion and reports come with the union issue; until then it only says
 * so, truthfully. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    int help = argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    FILE *f = help ? stdout : stderr;
    fprintf(f, "Usage: bantrail-collect keygen | serve | ingest FILE... | report | export\n"
               "The union's collector of anonymous Bantrail reports. Not built yet:\n"
               "none of these commands works in this version.\n");
    return help ? 0 : 2;
}
