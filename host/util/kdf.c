#include "bantrail/kdf.h"

#include <sodium.h>

bt_kdf_params bt_kdf_default(void)
{
    bt_kdf_params p = {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
    return p;
}
