/* The LSTM model: the encoder's per-segment forward and the decoder's per-timestep program give
 * the same probabilities bit for bit at every step (tails, inactive streams and training
 * included), on every supported ISA with 1, 2 and 3 threads; the model learns; every preset
 * round-trips small inputs, tails included. */
#include "model_drive.h"

/* variant 0: plain cell; 1: gate normalisation, bigram table and the order-2 count mixer;
 * 2: the same with the order-4 mixer (orders 4, 3, 2 blended) */
static void small_config(model_config *c, uint32_t variant)
{
    memset(c, 0, sizeof *c);
    REQUIRE(model_find_name("lstm-counts")->preset(c, 1) == NC_OK);
    model_config_set(c, MP_STREAMS, 3);
    model_config_set(c, MP_LAYERS, 2);
    model_config_set(c, MP_HIDDEN, 20);
    model_config_set(c, MP_EMBED, 8);
    model_config_set(c, MP_SEGMENT, 5);
    model_config_set(c, MP_GATE_NORM, variant > 0);
    model_config_set(c, MP_BIGRAM, variant > 0);
    model_config_set(c, MP_MIX_ORDER, variant == 2 ? 4 : variant == 1 ? 2 : 0);
}

int main(void)
{
    check_identity(small_config, 3);
    model_config c;
    small_config(&c, 0); /* the LSTM alone: no count mixer */
    model_config_set(&c, MP_GATE_NORM, 1);
    check_learns(&c);
    check_presets("lstm-counts");
    return test_finish("test_lstm");
}
