import sys

from keras_ae.tuning import main

sys.exit(main())
