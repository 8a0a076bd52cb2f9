;;; lstm-complete with Eglot (built into Emacs 29 and newer; for older ones it is on GNU ELPA,
;; and Debian packages it as elpa-eglot).
;; Eglot runs one server per major mode, so this replaces the Python server you use with
;; Eglot; lsp-mode (emacs-lsp-mode.el) can run lstm-complete beside another one.
;; :initializationOptions takes the server's settings (see the README).
(with-eval-after-load 'eglot
  (add-to-list 'eglot-server-programs
               '((python-mode python-ts-mode)
                 . ("lstm-complete" "serve" "--stdio"
                    :initializationOptions (:numSuggestions 5)))))
(add-hook 'python-mode-hook #'eglot-ensure)
(add-hook 'python-ts-mode-hook #'eglot-ensure)
