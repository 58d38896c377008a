import TestSupport
import Testing

@testable import MatrixCalculus

/// Problems in the style of an outside suite (other systems' test suites, the Cookbook,
/// matrixcalculus.org-style inputs, ML losses, Jacobians, 3-/4-index results, Hessians,
/// symmetric and index input; declarations written as a user would). Every one must be
/// derived and pass its certificate; the result has the shape S_F + S_X (+ S_X at order 2).
let outsideStyleProblems: [(expression: String, wrt: String, statements: String, order: Int)] = [
  ("x'*A*x", "x", "A : matrix(n,n); x : vector(n)", 1),
  ("x'*A*x", "x", "A : matrix(n,n); x : vector(n)", 2),
  ("x'*A*x", "A", "A : matrix(n,n); x : vector(n)", 1),
  ("exp(x)'*A*exp(x)", "x", "A : matrix(n,n); x : vector(n)", 1),
  ("exp(x)'*A*exp(x)", "A", "A : matrix(n,n); x : vector(n)", 1),
  ("sin(x)'*A*sin(x)", "x", "A : matrix(n,n); x : vector(n)", 1),
  ("A*x", "x", "A : matrix(m,n); x : vector(n)", 1),
  ("A*x", "A", "A : matrix(m,n); x : vector(n)", 1),
  ("exp(A*x)", "x", "A : matrix(m,n); x : vector(n)", 1),
  ("x*x'", "x", "x : vector(n)", 1),
  ("x'*x*x", "x", "x : vector(n)", 1),
  ("A*B", "A", "A : matrix(m,n); B : matrix(n,p)", 1),
  ("A*B", "B", "A : matrix(m,n); B : matrix(n,p)", 1),
  ("X'*X", "X", "X : matrix(m,n)", 1),
  ("inv(X)", "X", "X : matrix(n,n)", 1),
  ("X^2", "X", "X : matrix(n,n)", 1),
  ("X^3", "X", "X : matrix(n,n)", 1),
  ("det(X)*inv(X)", "X", "X : matrix(n,n)", 1),
  ("X .* X", "X", "X : matrix(m,n)", 1),
  ("exp(X)", "X", "X : matrix(m,n)", 1),
  ("log(det(X))", "X", "X : matrix(n,n)", 1),
  ("det(inv(X))", "X", "X : matrix(n,n)", 1),
  ("tr(X'*A*X*B)", "X", "X : matrix(m,n); A : matrix(m,m); B : matrix(n,n)", 1),
  ("tr(X*A*X'*B)", "X", "X : matrix(m,n); A : matrix(n,n); B : matrix(m,m)", 1),
  ("tr(A*X'*B*X*C)", "X", "X : matrix(m,n); A : matrix(n,n); B : matrix(m,m); C : matrix(n,n)", 1),
  ("tr(inv(X'*A*X))", "X", "X : matrix(m,n); A : matrix(m,m)", 1),
  ("det(X'*A*X)", "X", "X : matrix(m,n); A : matrix(m,m)", 1),
  ("logdet(X'*A*X)", "X", "X : matrix(m,n); A : symmetric(m)", 1),
  ("norm2(A*x - b)^2", "x", "A : matrix(m,n); x : vector(n); b : vector(m)", 1),
  ("norm2(A*x - b)^2", "x", "A : matrix(m,n); x : vector(n); b : vector(m)", 2),
  (
    "norm2(X*w - y)^2 + lambda*norm2(w)^2", "w",
    "X : matrix(m,n); w : vector(n); y : vector(m); lambda : scalar", 1
  ),
  (
    "norm2(X*w - y)^2 + lambda*norm2(w)^2", "w",
    "X : matrix(m,n); w : vector(n); y : vector(m); lambda : scalar", 2
  ),
  ("sum(log(1 + exp(-y .* (X*w))))", "w", "X : matrix(m,n); w : vector(n); y : vector(m)", 1),
  ("sum(log(1 + exp(-y .* (X*w))))", "w", "X : matrix(m,n); w : vector(n); y : vector(m)", 2),
  (
    "-y'*log(sigmoid(X*w)) - (1 - y)'*log(1 - sigmoid(X*w))", "w",
    "X : matrix(m,n); w : vector(n); y : vector(m)", 1
  ),
  (
    "-y'*log(sigmoid(X*w)) - (1 - y)'*log(1 - sigmoid(X*w))", "w",
    "X : matrix(m,n); w : vector(n); y : vector(m)", 2
  ),
  ("-y'*log(softmax(W*x))", "W", "W : matrix(k,n); x : vector(n); y : vector(k)", 1),
  ("logsumexp(x)", "x", "x : vector(n)", 2),
  ("logsumexp(W*x)", "x", "W : matrix(m,n); x : vector(n)", 2),
  ("softmax(x)", "x", "x : vector(n)", 1),
  ("sigmoid(x)", "x", "x : vector(n)", 1),
  ("relu(W*x)", "W", "W : matrix(m,n); x : vector(n)", 1),
  ("tanh(W*x + b)", "b", "W : matrix(m,n); x : vector(n); b : vector(m)", 1),
  ("tanh(W*x + b)", "x", "W : matrix(m,n); x : vector(n); b : vector(m)", 1),
  ("sum(tanh(W*x + b))", "W", "W : matrix(m,n); x : vector(n); b : vector(m)", 2),
  ("x'*x", "x", "x : vector(n)", 2),
  ("a'*x", "x", "a : vector(n); x : vector(n)", 2),
  ("sum(exp(x))", "x", "x : vector(n)", 2),
  ("sum(x .^ 4)", "x", "x : vector(n)", 2),
  ("(a'*x)^2", "x", "a : vector(n); x : vector(n)", 2),
  ("norm2(x)", "x", "x : vector(n)", 2),
  ("x'*S*x", "x", "S : symmetric(n); x : vector(n)", 2),
  ("x'*S*x", "S", "S : symmetric(n); x : vector(n)", 1),
  ("tr(S*A)", "S", "S : symmetric(n); A : matrix(n,n)", 1),
  ("logdet(S)", "S", "S : symmetric(n)", 1),
  ("tr(inv(S)*A)", "S", "S : symmetric(n); A : matrix(n,n)", 1),
  ("tr(X'*X)", "X", "X : matrix(m,n)", 2),
  ("logdet(X)", "X", "X : matrix(n,n)", 2),
  ("tr(X*X)", "X", "X : matrix(n,n)", 2),
  ("sum(X .* X)", "X", "X : matrix(m,n)", 2),
  ("s*A", "s", "A : matrix(m,n); s : scalar", 1),
  ("s^2*A + s*B", "s", "A : matrix(m,n); B : matrix(m,n); s : scalar", 1),
  ("exp(s*A)", "s", "A : matrix(m,n); s : scalar", 1),
  ("s*x", "s", "x : vector(n); s : scalar", 1),
  ("sin(s)*x", "s", "x : vector(n); s : scalar", 2),
  ("s^3", "s", "s : scalar", 2),
  ("exp(s)*sin(s)", "s", "s : scalar", 1),
  ("x/norm2(x)", "x", "x : vector(n)", 1),
  ("x ./ (1 + x)", "x", "x : vector(n)", 1),
  ("sqrt(x'*x)", "x", "x : vector(n)", 1),
  ("abs(x)", "x", "x : vector(n)", 1),
  ("norm1(A*x - b)", "x", "A : matrix(m,n); x : vector(n); b : vector(m)", 1),
  ("norm2(X)", "X", "X : matrix(m,n)", 1),
  ("norm1(X)", "X", "X : matrix(m,n)", 1),
  ("sum(sum(X))", "X", "X : matrix(m,n)", 1),
  ("diag(x)*A", "x", "x : vector(m); A : matrix(m,n)", 1),
  ("diag(A*x)", "x", "A : matrix(n,n); x : vector(n)", 1),
  ("diag(X)", "X", "X : matrix(n,n)", 1),
  ("diag(x)", "x", "x : vector(n)", 1),
  ("tr(diag(x)*A)", "x", "x : vector(n); A : matrix(n,n)", 1),
  ("A*inv(X)*B", "X", "X : matrix(n,n); A : matrix(m,n); B : matrix(n,p)", 1),
  ("inv(X)*b", "X", "X : matrix(n,n); b : vector(n)", 1),
  ("inv(X)*b", "b", "X : matrix(n,n); b : vector(n)", 1),
  ("X*inv(X'*X)*X'", "X", "X : matrix(m,n)", 1),
  ("a'*X^2*b", "X", "X : matrix(n,n); a : vector(n); b : vector(n)", 1),
  ("a'*X'*X*a", "X", "X : matrix(m,n); a : vector(n)", 1),
  ("a'*inv(X)'*b", "X", "X : matrix(n,n); a : vector(n); b : vector(n)", 1),
  ("(x'*A*x)/(x'*B*x)", "x", "A : matrix(n,n); B : matrix(n,n); x : vector(n)", 1),
  ("x'*A*x + b'*x + c", "x", "A : matrix(n,n); b : vector(n); x : vector(n); c : scalar", 2),
  ("0.5*x'*A*x - b'*x", "x", "A : symmetric(n); b : vector(n); x : vector(n)", 1),
  ("exp(-x'*x/2)", "x", "x : vector(n)", 2),
  ("log(x'*A*x)", "x", "A : matrix(n,n); x : vector(n)", 2),
  ("sum(log(x))", "x", "x : vector(n)", 2),
  ("x .* y", "x", "x : vector(n); y : vector(n)", 1),
  ("x .* exp(x)", "x", "x : vector(n)", 1),
  ("W2*tanh(W1*x)", "W1", "W1 : matrix(h,n); W2 : matrix(m,h); x : vector(n)", 1),
  ("W2*tanh(W1*x)", "x", "W1 : matrix(h,n); W2 : matrix(m,h); x : vector(n)", 1),
  (
    "norm2(W2*tanh(W1*x) - y)^2", "W1",
    "W1 : matrix(h,n); W2 : matrix(m,h); x : vector(n); y : vector(m)", 1
  ),
  (
    "sum((W2*relu(W1*X) - Y) .^ 2)", "W1",
    "W1 : matrix(h,n); W2 : matrix(m,h); X : matrix(n,b); Y : matrix(m,b)", 1
  ),
  ("x'*A*x", "x", "", 1),
  ("tr(X*A)", "X", "", 1),
  ("exp(x)'*A*exp(x)", "x", "", 1),
  ("A*X*B", "X", "A : matrix(m,n); X : matrix(n,p); B : matrix(p,q)", 1),
  ("X'", "X", "X : matrix(m,n)", 1),
  ("X*A*X'", "X", "X : matrix(m,n); A : matrix(n,n)", 1),
  ("tr(X)*X", "X", "X : matrix(n,n)", 1),
  ("sum(X)*X", "X", "X : matrix(m,n)", 1),
  ("norm2(X)*X", "X", "X : matrix(m,n)", 1),
  ("X*x", "x", "X : matrix(m,n); x : vector(n)", 1),
  ("X*x", "X", "X : matrix(m,n); x : vector(n)", 1),
  ("x*y'", "x", "x : vector(m); y : vector(n)", 1),
  ("x'*X", "X", "X : matrix(m,n); x : vector(m)", 1),
  ("tanh(X)*y", "X", "X : matrix(m,n); y : vector(n)", 1),
  ("softmax(X*w)", "X", "X : matrix(m,n); w : vector(n)", 1),
  ("softmax(X*w)", "w", "X : matrix(m,n); w : vector(n)", 1),
  ("sigmoid(X*w)", "w", "X : matrix(m,n); w : vector(n)", 1),
  ("D", "W", "W : matrix(m,n); X : matrix(n,p); D[i,j] = sum(k, W[i,k]*X[k,j])", 1),
  (
    "l", "W", "W : matrix(m,n); X : matrix(n,p); D[i,j] = sum(k, W[i,k]*X[k,j]); l = sum(D .* D)", 1
  ),
  (
    "l", "x", "A : matrix(n,n); x : vector(n); q[i] = sum(j, A[i,j]*x[j]); l = sum(i, x[i]*q[i])", 1
  ),
  ("y", "x", "A : matrix(n,n); x : vector(n); y[i] = sum(j, A[i,j]*x[j]) + x[i]", 1),
  ("l", "w", "X : matrix(m,n); w : vector(n); y : vector(m); r = X*w - y; l = 1/2*r'*r", 1),
  ("l", "w", "X : matrix(m,n); w : vector(n); y : vector(m); r = X*w - y; l = 1/2*r'*r", 2),
  ("A^2", "A", "A : matrix(n,n)", 1),
  ("A^(-1)", "A", "A : matrix(n,n)", 1),
  ("tr(A^(-1))", "A", "A : matrix(n,n)", 1),
  ("x .^ 2", "x", "x : vector(n)", 1),
  ("x ./ y", "y", "x : vector(n); y : vector(n)", 1),
  ("sum(x ./ y)", "y", "x : vector(n); y : vector(n)", 2),
  ("x' * x / 2", "x", "x : vector(n)", 1),
  ("-x", "x", "x : vector(n)", 1),
  ("2*x + 3", "x", "x : vector(n)", 1),
  ("a'*(x .* x)", "x", "a : vector(n); x : vector(n)", 2),
  ("x'*A*x + c*sin(y)'*x", "x", "A : matrix(n,n); x : vector(n); y : vector(n); c : scalar", 1),
  ("x'*A*x + c*sin(y)'*x", "y", "A : matrix(n,n); x : vector(n); y : vector(n); c : scalar", 1),
  ("A / s", "s", "A : matrix(m,n); s : scalar", 1),
  ("x / 2", "x", "x : vector(n)", 1),
  ("x .^ 0.5", "x", "x : vector(n)", 1),
  ("A^0", "A", "A : matrix(n,n)", 1),
  ("A^-1", "A", "A : matrix(n,n)", 1),
  ("-A", "A", "A : matrix(m,n)", 1),
  ("alpha*x'*x", "alpha", "alpha : scalar; x : vector(n)", 1),
  ("x'*x", "x", "x : vector(3)", 1),
  ("A*x", "x", "A : matrix(2,3); x : vector(3)", 1),
  ("relu(X)", "X", "X : matrix(m,n)", 1),
  ("abs(X)", "X", "X : matrix(m,n)", 1),
  ("sqrt(X .* X + 1)", "X", "X : matrix(m,n)", 1),
  ("exp(x)'*exp(x)", "x", "x : vector(n)", 1),
  ("l", "x", "x : vector(n); l = sum(i, x[i]*x[i])", 1),
  ("l", "x", "x : vector(n); A : matrix(n,n); l = sum(i, sum(j, x[i]*A[i,j]*x[j]))", 1),
  ("y", "x", "x : vector(n); A : matrix(m,n); y[i] = sum(j, A[i,j]*x[j])", 1),
  ("Y", "X", "X : matrix(m,n); Y[i,j] = X[j,i]", 1),
  ("Y", "X", "X : matrix(n,n); Y[i,j] = sum(k, X[i,k]*X[k,j])", 1),
  ("t", "X", "X : matrix(n,n); t = sum(i, X[i,i])", 1),
  ("D", "x", "x : vector(n); D[i,j] = x[i]*x[j]", 1),
  ("D", "x", "x : vector(n); D[i,j] = delta(i,j)*x[i]", 1),
  ("sigmoid(w'*x)", "w", "w : vector(n); x : vector(n)", 2),
  ("log(sigmoid(w'*x))", "w", "w : vector(n); x : vector(n)", 2),
  ("softmax(W*x)", "W", "W : matrix(m,n); x : vector(n)", 1),
  ("logsumexp(W*x)", "W", "W : matrix(m,n); x : vector(n)", 2),
  ("norm2(W)", "W", "W : matrix(m,n)", 2),
  ("tr(W'*W)", "W", "W : matrix(m,n)", 2),
  ("x'*inv(S)*x", "S", "S : symmetric(n); x : vector(n)", 1),
  ("x'*inv(S)*x", "x", "S : symmetric(n); x : vector(n)", 2),
  ("logdet(S) + x'*inv(S)*x", "S", "S : symmetric(n); x : vector(n)", 1),
  (
    "-1/2*logdet(S) - 1/2*(x - mu)'*inv(S)*(x - mu)", "mu",
    "S : symmetric(n); x : vector(n); mu : vector(n)", 2
  ),
  (
    "-1/2*logdet(S) - 1/2*(x - mu)'*inv(S)*(x - mu)", "S",
    "S : symmetric(n); x : vector(n); mu : vector(n)", 1
  ),
  ("det(S)", "S", "S : symmetric(n)", 2),
  ("tr(S^2)", "S", "S : symmetric(n)", 2),
  ("inv(S)", "S", "S : symmetric(n)", 1),
  ("S*x", "S", "S : symmetric(n); x : vector(n)", 1),
  ("x'*S", "S", "S : symmetric(n); x : vector(n)", 1),
  ("A*X", "X", "A : matrix(m,n); X : matrix(n,p)", 1),
  ("X*A", "X", "A : matrix(n,p); X : matrix(m,n)", 1),
  ("X .* A", "X", "A : matrix(m,n); X : matrix(m,n)", 1),
  ("X ./ A", "A", "A : matrix(m,n); X : matrix(m,n)", 1),
  ("log(X)", "X", "X : matrix(m,n)", 1),
  ("X*x + b", "X", "X : matrix(m,n); x : vector(n); b : vector(m)", 1),
  ("sigmoid(X*x + b)", "X", "X : matrix(m,n); x : vector(n); b : vector(m)", 1),
  ("softmax(X*x + b)", "b", "X : matrix(m,n); x : vector(n); b : vector(m)", 1),
  ("softmax(X*x + b)", "X", "X : matrix(m,n); x : vector(n); b : vector(m)", 1),
  (
    "-y'*log(softmax(X*x + b))", "X",
    "X : matrix(m,n); x : vector(n); b : vector(m); y : vector(m)", 2
  ),
  (
    "-y'*log(softmax(X*x + b))", "b",
    "X : matrix(m,n); x : vector(n); b : vector(m); y : vector(m)", 2
  ),
  (
    "W2*relu(W1*x + b1) + b2", "W1",
    "W1 : matrix(h,n); W2 : matrix(m,h); x : vector(n); b1 : vector(h); b2 : vector(m)", 1
  ),
  (
    "W2*relu(W1*x + b1) + b2", "b1",
    "W1 : matrix(h,n); W2 : matrix(m,h); x : vector(n); b1 : vector(h); b2 : vector(m)", 1
  ),
  ("W2*tanh(W1*X)", "W1", "W1 : matrix(h,n); W2 : matrix(m,h); X : matrix(n,b)", 1),
  ("tanh(W1*X)", "X", "W1 : matrix(h,n); X : matrix(n,b)", 1),
  ("(X*w - y)'*(X*w - y)", "w", "X : matrix(m,n); w : vector(n); y : vector(m)", 2),
  ("1/2*(X*w - y)'*(X*w - y)", "X", "X : matrix(m,n); w : vector(n); y : vector(m)", 1),
  ("1/2*(X*w - y)'*(X*w - y)", "w", "X : matrix(m,n); w : vector(n); y : vector(m)", 1),
  ("(X*w - y)", "w", "X : matrix(m,n); w : vector(n); y : vector(m)", 1),
  ("X*W*v", "W", "X : matrix(m,n); W : matrix(n,p); v : vector(p)", 1),
  ("x'*A*x", "A", "A : matrix(n,n); x : vector(n)", 2),
  ("a'*X*b", "X", "X : matrix(m,n); a : vector(m); b : vector(n)", 2),
  ("tr(X*X'*A)", "X", "X : matrix(m,n); A : matrix(m,m)", 1),
  ("tr(A*X*B*X*C)", "X", "X : matrix(n,n); A : matrix(n,n); B : matrix(n,n); C : matrix(n,n)", 1),
  ("tr(X'*B*X*C)", "X", "X : matrix(m,n); B : matrix(m,m); C : matrix(n,n)", 2),
  ("det(X'*X)", "X", "X : matrix(m,n)", 1),
  ("det(A*X*B)", "X", "X : matrix(n,n); A : matrix(n,n); B : matrix(n,n)", 1),
  ("norm2(x - y)^2", "x", "x : vector(n); y : vector(n)", 2),
  ("norm2(x - y)", "x", "x : vector(n); y : vector(n)", 2),
  ("norm1(x)", "x", "x : vector(n)", 2),
  ("x'*x*y", "y", "x : vector(n); y : vector(m)", 1),
  ("x'*A*y", "A", "x : vector(m); A : matrix(m,n); y : vector(n)", 2),
  ("sum(exp(A*x))", "A", "A : matrix(m,n); x : vector(n)", 2),
  ("sum(exp(A*x))", "x", "A : matrix(m,n); x : vector(n)", 2),
  ("cos(x)'*sin(x)", "x", "x : vector(n)", 2),
  ("x .* sin(x)", "x", "x : vector(n)", 2),
  ("softmax(x)", "x", "x : vector(n)", 2),
  ("diag(x)*y", "x", "x : vector(n); y : vector(n)", 2),
  ("tr(diag(x)*A*diag(x))", "x", "x : vector(n); A : matrix(n,n)", 2),
  ("tr(A*X*B*X'*C)", "X", "X : matrix(n,m); A : matrix(p,n); B : matrix(m,m); C : matrix(n,p)", 1),
  ("tr(X*B*X'*A)", "X", "X : matrix(n,m); A : matrix(n,n); B : matrix(m,m)", 1),
  ("log(det(A*X*B))", "X", "X : matrix(n,n); A : matrix(n,n); B : matrix(n,n)", 1),
  ("c'*X'*D*X*c", "X", "X : matrix(m,n); D : matrix(m,m); c : vector(n)", 1),
  ("b'*X'*X*c", "X", "X : matrix(m,n); b : vector(n); c : vector(n)", 1),
  ("(x'*b)*(x'*c)", "x", "x : vector(n); b : vector(n); c : vector(n)", 1),
  ("(x'*b)*(x'*c)", "x", "x : vector(n); b : vector(n); c : vector(n)", 2),
  ("X .^ 2", "X", "X : matrix(m,n)", 1),
  ("sin(X)", "X", "X : matrix(m,n)", 1),
  ("tr(exp(X))", "X", "X : matrix(n,n)", 1),
  ("tr(X'*X)", "X", "X : matrix(m,n)", 1),
  ("x'*X'*X*x", "X", "X : matrix(m,n); x : vector(n)", 1),
  ("A*X*b", "X", "X : matrix(n,p); A : matrix(m,n); b : vector(p)", 1),
  ("X*b", "X", "X : matrix(n,p); b : vector(p)", 1),
  ("b'*X", "X", "X : matrix(n,p); b : vector(n)", 1),
  ("X*X'", "X", "X : matrix(n,p)", 1),
  ("X'*X", "X", "X : matrix(n,p)", 1),
  ("inv(X)*A", "X", "X : matrix(n,n); A : matrix(n,p)", 1),
  ("inv(X'*X)", "X", "X : matrix(m,n)", 1),
  ("X^-1", "X", "X : matrix(n,n)", 1),
  ("x'*inv(X)*x", "X", "X : matrix(n,n); x : vector(n)", 1),
  ("tr(inv(X)*A)", "X", "X : matrix(n,n); A : matrix(n,n)", 2),
  ("logdet(X'*X)", "X", "X : matrix(m,n)", 2),
  ("norm2(X*x - y)^2", "X", "X : matrix(m,n); x : vector(n); y : vector(m)", 2),
  ("(x'*x)^2", "x", "x : vector(n)", 2),
  ("(x'*A*x)^2", "x", "x : vector(n); A : matrix(n,n)", 2),
  ("exp(x'*A*x)", "x", "x : vector(n); A : matrix(n,n)", 2),
  ("1/(x'*x)", "x", "x : vector(n)", 2),
  ("sqrt(x'*x + 1)", "x", "x : vector(n)", 2),
  ("x/(x'*x)", "x", "x : vector(n)", 1),
  ("softmax(x) .* x", "x", "x : vector(n)", 1),
  ("logsumexp(A*x + b)", "x", "x : vector(n); A : matrix(m,n); b : vector(m)", 2),
  ("sigmoid(x) .* (1 - sigmoid(x))", "x", "x : vector(n)", 1),
  ("tanh(X)*tanh(X)'", "X", "X : matrix(m,n)", 1),
  ("relu(A*x)", "x", "x : vector(n); A : matrix(m,n)", 1),
  ("sum(relu(A*X))", "X", "X : matrix(n,p); A : matrix(m,n)", 1),
  ("norm2(relu(A*x))", "x", "x : vector(n); A : matrix(m,n)", 1),
  ("abs(x)'*abs(x)", "x", "x : vector(n)", 1),
  ("x' * diag(a) * x", "a", "x : vector(n); a : vector(n)", 2),
  ("diag(a)*X", "X", "X : matrix(n,m); a : vector(n)", 1),
  ("diag(a)*X", "a", "X : matrix(n,m); a : vector(n)", 1),
  ("sum(diag(X))", "X", "X : matrix(n,n)", 2),
  ("tr(X)^2", "X", "X : matrix(n,n)", 2),
  ("det(X)", "X", "X : matrix(n,n)", 2),
  ("tr(S*X*S*X)", "X", "X : matrix(n,n); S : symmetric(n)", 1),
  ("tr(S*X*S*X)", "S", "X : matrix(n,n); S : symmetric(n)", 1),
  ("x'*S^2*x", "S", "S : symmetric(n); x : vector(n)", 1),
  ("logdet(S + x*x')", "x", "S : symmetric(n); x : vector(n)", 1),
  ("logdet(S + x*x')", "x", "S : symmetric(n); x : vector(n)", 2),
  ("inv(S + x*x')*x", "x", "S : symmetric(n); x : vector(n)", 1),
  (
    "l", "W",
    "W : matrix(m,n); x : vector(n); b : vector(m); y : vector(m); z = W*x + b; a = sigmoid(z); l = -y'*log(a) - (1-y)'*log(1-a)",
    1
  ),
  (
    "l", "b",
    "W : matrix(m,n); x : vector(n); b : vector(m); y : vector(m); z = W*x + b; a = sigmoid(z); l = -y'*log(a) - (1-y)'*log(1-a)",
    2
  ),
  (
    "l", "W",
    "W : matrix(k,n); x : vector(n); y : vector(k); z = W*x; p = softmax(z); l = -y'*log(p)", 1
  ),
  (
    "l", "x",
    "W : matrix(k,n); x : vector(n); y : vector(k); z = W*x; p = softmax(z); l = -y'*log(p)", 2
  ),
  ("h", "x", "W : matrix(m,n); x : vector(n); h = tanh(W*x)", 1),
  ("h", "W", "W : matrix(m,n); x : vector(n); h = tanh(W*x)", 1),
  ("Y", "X", "X : matrix(n,p); A : matrix(m,n); Y = A*X", 1),
  ("Y", "X", "X : matrix(n,p); Y = exp(X) .* X", 1),
  ("y", "x", "A : matrix(m,n); x : vector(n); y[i] = tanh(sum(j, A[i,j]*x[j]))", 1),
  ("Y", "W", "W : matrix(m,n); X : matrix(n,p); Y[i,j] = sum(k, W[i,k]*X[k,j])", 1),
  (
    "l", "W",
    "W : matrix(m,n); X : matrix(n,p); Y[i,j] = sum(k, W[i,k]*X[k,j]); l = sum(i, sum(j, Y[i,j]*Y[i,j]))",
    1
  ),
  ("l", "x", "x : vector(n); l = sum(i, exp(x[i]))", 1),
  ("l", "x", "x : vector(n); l = sum(i, exp(x[i]))", 2),
  ("q", "x", "x : vector(n); A : matrix(n,n); q = sum(i, sum(j, x[i]*A[i,j]*x[j]))", 2),
  ("t", "S", "S : symmetric(n); t = sum(i, S[i,i])", 1),
  ("z", "x", "x : vector(n); w : vector(n); z[i] = x[i]*w[i]", 1),
  ("z", "x", "x : vector(n); w : vector(n); z[i] = x[i]/w[i]", 1),
  ("z", "w", "x : vector(n); w : vector(n); z[i] = x[i]/w[i]", 1),
  ("z", "x", "x : vector(n); z[i] = x[i]^2", 1),
  ("C", "A", "A : matrix(m,n); B : matrix(m,n); C[i,j] = A[i,j]*B[i,j]", 1),
  ("C", "A", "A : matrix(m,n); C[j,i] = A[i,j]", 1),
  ("s", "A", "A : matrix(m,n); s = sum(i, sum(j, A[i,j]))", 1),
  ("v", "A", "A : matrix(m,n); x : vector(n); v[i] = sum(j, A[i,j]*x[j]) + 1", 1),
  // A scalar subtracted from a vector is a broadcast like any other.
  ("norm2(A*x - x'*x)^2", "x", "A : matrix(m,n); x : vector(n)", 1),
  ("norm2(A*x - x'*x)", "x", "A : matrix(m,n); x : vector(n)", 1),
  ("sum((A*x - x'*x).^2)", "x", "A : matrix(m,n); x : vector(n)", 1),
  ("norm2(X*w - w'*w)^2", "w", "X : matrix(m,n); w : vector(n)", 1),
]
@Test(arguments: 0..<8)
func outsideStyleProblemsAreDerivedAndCertified(_ shard: Int) throws {
  for (index, problem) in outsideStyleProblems.enumerated() where index % 8 == shard {
    let label = "∂\(problem.order == 2 ? "²" : "")(\(problem.expression))/∂\(problem.wrt)"
    do {
      let derivation = try deriveUnchecked(
        problem.expression, wrt: problem.wrt, where: problem.statements, order: problem.order)
      let certificate = try derivation.check(points: 1)
      #expect(certificate.passed, "\(label): \(certificate) \(certificate.worstEntry)")
      // The NumPy line renders (its numbers are compared with Python in CorpusTests).
      _ = try derivation.render(.numpy)
      let objectiveRank = Derivation.rank(of: derivation.objective.shape)
      let variableRank = Derivation.rank(of: derivation.variable.shape)
      #expect(
        derivation.resultRank == objectiveRank + problem.order * variableRank,
        "\(label): rank \(derivation.resultRank)")
    } catch {
      Issue.record("\(label): \(error)")
    }
  }
}

/// The standalone LaTeX document of every outside-style problem compiles with pdflatex (one
/// run over all of them, their bodies after the shared preamble); on a failure, each is
/// compiled alone to name the one that breaks.
@Test(.needs(.pdflatex)) func outsideStyleDocumentsCompile() throws {
  var preamble: String?
  var bodies: [(label: String, document: String, body: String)] = []
  for problem in outsideStyleProblems {
    let label = "∂\(problem.order == 2 ? "²" : "")(\(problem.expression))/∂\(problem.wrt)"
    let derivation = try deriveUnchecked(
      problem.expression, wrt: problem.wrt, where: problem.statements, order: problem.order)
    let certificate = try derivation.check(points: 1)
    let document = try derivation.render(.latex, certificate: certificate, standalone: true)
    let ascii = document.unicodeScalars.allSatisfy(\.isASCII)
    #expect(ascii, "\(label): non-ASCII LaTeX")
    guard let begin = document.range(of: "\\begin{document}\n"),
      let end = document.range(of: "\\end{document}", options: .backwards)
    else {
      Issue.record("\(label): not a document")
      continue
    }
    let head = String(document[..<begin.upperBound])
    if preamble == nil { preamble = head }
    #expect(head == preamble, "\(label): another preamble")
    bodies.append((label, document, String(document[begin.upperBound..<end.lowerBound])))
  }
  let all =
    (preamble ?? "") + bodies.map(\.body).joined(separator: "\n\\clearpage\n")
    + "\\end{document}\n"
  let (status, log) = try compileLatex(all)
  if status != 0 {
    for (label, document, _) in bodies where try compileLatex(document).status != 0 {
      Issue.record("\(label): pdflatex failed")
    }
    Issue.record("pdflatex failed on the combined document:\n\(log.suffix(1500))")
  }
}
