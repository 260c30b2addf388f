#include "flowtop/app/app.hpp"

int main(int argc, char** argv) {
  return flowtop::app::run(argc, argv);
}
