/* buy_apple.c — mirrors the book's ch05/buy_apple.py (5.4.1, figure 5-16):
 * 2 apples at 100 each with 10% tax, forward through two MulLayers, then
 * backward: how the price moves with each input.
 *
 * The book prints price: 220, dApple: 2.2, dApple_num: 110, dTax: 200;
 * like the book, the price and dApple_num go through int() (the sums are
 * 220.00000000000003 and 110.00000000000001 in float64). */
#include "learn.h"
#include "layer_naive.h"

int main(void)
{
    double apple = 100, apple_num = 2, tax = 1.1;
    MulLayer mul_apple_layer, mul_tax_layer;

    /* forward */
    double apple_price = mul_forward(&mul_apple_layer, apple, apple_num);
    double price = mul_forward(&mul_tax_layer, apple_price, tax);

    /* backward */
    double dprice = 1, dapple_price, dtax, dapple, dapple_num;
    mul_backward(&mul_tax_layer, dprice, &dapple_price, &dtax);
    mul_backward(&mul_apple_layer, dapple_price, &dapple, &dapple_num);

    printf("price: %d\n", (int)price);
    printf("dApple: ");
    print_repr(dapple);
    printf("\ndApple_num: %d\n", (int)dapple_num);
    printf("dTax: %g\n", dtax); /* an int in Python: 1 * (100 * 2) */
    return 0;
}
