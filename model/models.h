/* The models built into nnzip; only registry.c and each model's own file include this. */
#ifndef NNZIP_MODEL_MODELS_H
#define NNZIP_MODEL_MODELS_H

#include "model.h"

extern const model_ops order2_ops;
extern const model_ops lstm_ops;
extern const model_ops transformer_ops;
extern const model_ops cm_ops;
/* The names of cm's hybrid presets (model id 4 with a network, key cm_net). */
extern const model_ops cm_hybrid_ops;
extern const model_ops cm_lstm_ops;
extern const model_ops cm_transformer_ops;

#endif
