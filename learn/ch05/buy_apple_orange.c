/* buy_apple_orange.c — mirrors the book's ch05/buy_apple_orange.py (5.4.2,
 * figure 5-17): 2 apples at 100 and 3 oranges at 150, 10% tax; three
 * MulLayers and an AddLayer, forward then backward.
 *
 * The book prints price: 715, dApple: 2.2, dApple_num: 110,
 * dOrange: 3.3000000000000003, dOrange_num: 165, dTax: 650 (price and the
 * counts through int(), as the book does). */
#include "learn.h"
#include "layer_naive.h"

static void show(const char *name, double v)
{
    printf("%s: ", name);
    print_repr(v);
    putchar('\n');
}

int main(void)
{
    double apple = 100, apple_num = 2, orange = 150, orange_num = 3, tax = 1.1;
    MulLayer mul_apple_layer, mul_orange_layer, mul_tax_layer;
    AddLayer add_apple_orange_layer;

    /* forward */
    double apple_price = mul_forward(&mul_apple_layer, apple, apple_num);     /* (1) */
    double orange_price = mul_forward(&mul_orange_layer, orange, orange_num); /* (2) */
    double all_price = add_forward(&add_apple_orange_layer, apple_price, orange_price); /* (3) */
    double price = mul_forward(&mul_tax_layer, all_price, tax);               /* (4) */

    /* backward, in the reverse order */
    double dprice = 1, dall_price, dtax, dapple_price, dorange_price;
    double dorange, dorange_num, dapple, dapple_num;
    mul_backward(&mul_tax_layer, dprice, &dall_price, &dtax);                           /* (4) */
    add_backward(&add_apple_orange_layer, dall_price, &dapple_price, &dorange_price);   /* (3) */
    mul_backward(&mul_orange_layer, dorange_price, &dorange, &dorange_num);             /* (2) */
    mul_backward(&mul_apple_layer, dapple_price, &dapple, &dapple_num);                 /* (1) */

    printf("price: %d\n", (int)price);
    show("dApple", dapple);
    printf("dApple_num: %d\n", (int)dapple_num);
    show("dOrange", dorange);
    printf("dOrange_num: %d\n", (int)dorange_num);
    printf("dTax: %g\n", dtax); /* an int in Python: 1 * (100 * 2 + 150 * 3) */
    return 0;
}
