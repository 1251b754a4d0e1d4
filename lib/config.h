/* config: the model config an encoder writes, from a model name, a level and "name=value"
 * overrides (the options of nnzip and of nnz_options). */
#ifndef NNZIP_LIB_CONFIG_H
#define NNZIP_LIB_CONFIG_H

#include <stddef.h>

#include "model.h"

#define CODEC_STORED_NAME "stored" /* no model: every block stored (model id 0) */

/* Whether name is a model an encoder may use: the registry's user models, and "stored". */
int codec_model_known(const char *name);

/* Fill *cfg from model (NULL: the default, hybrid), level 1..9 and the overrides; NC_ERR_ARG
 * with *why (a static or set[i]-naming message in why_buf, why_len bytes) when one is wrong. */
nc_status codec_config_build(model_config *cfg, const char *name, int level,
                             const char *const *set, size_t n_set, char *why_buf, size_t why_len);

#endif
